import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import { addCorsHeaders } from '../../src/proxy/cors.js'
import { startBackend, type Backend } from '../../src/devkit/backend.js'
import { send, startTestGateway, type TestGateway } from '../helpers/gateway.js'

const APP = 'https://app.example'
const OTHER = 'https://evil.example'

describe('CORS for browser-hosted agents', () => {
  let backend: Backend
  let gw: TestGateway

  before(async () => {
    backend = await startBackend()
    gw = await startTestGateway({
      routes: [
        { name: 'api', match: { path_prefix: '/api', methods: ['GET', 'POST'] }, upstream: backend.url, access: 'pseudonymous', cors: { origins: [APP] } },
        { name: 'open', match: { path_prefix: '/open' }, upstream: backend.url, access: 'open', cors: { origins: [APP] } },
        { name: 'plain', match: { path_prefix: '/plain' }, upstream: backend.url, access: 'open' },
      ],
    })
  })
  after(async () => {
    await gw.close()
    await backend.close()
  })

  const preflight = (origin: string, headers: Record<string, string> = {}) =>
    send(gw, '/api/items', { method: 'OPTIONS', headers: { origin, 'access-control-request-method': 'POST', ...headers } })

  test('a preflight from a listed origin is answered 204 before verification, with the route methods and the AAuth headers', async () => {
    const before = backend.received.length
    const res = await preflight(APP, { 'access-control-request-headers': 'signature, signature-input, signature-key, content-digest, x-trace' })
    assert.equal(res.status, 204)
    assert.equal(res.headers.get('access-control-allow-origin'), APP)
    assert.equal(res.headers.get('access-control-allow-methods'), 'GET, POST')
    const allowed = String(res.headers.get('access-control-allow-headers')).split(', ')
    for (const h of ['Signature', 'Signature-Input', 'Signature-Key', 'Content-Digest', 'Authorization', 'Content-Type', 'x-trace']) {
      assert.ok(allowed.includes(h), `${h} in ${allowed.join(', ')}`)
    }
    assert.match(String(res.headers.get('vary')), /\bOrigin\b/)
    assert.equal(backend.received.length, before, 'never forwarded')
    const line = gw.decisions.at(-1)
    assert.equal(line?.reason, 'preflight')
    assert.equal(line?.route, 'api')
    assert.equal(line?.decision, 'allow')
  })

  test('a preflight from an unlisted origin gets no CORS headers and goes through the normal pipeline', async () => {
    const res = await preflight(OTHER)
    assert.equal(res.status, 405, 'OPTIONS is not one of the route methods')
    assert.equal(res.headers.get('allow'), 'GET, POST')
    assert.equal(res.headers.get('access-control-allow-origin'), null)
    assert.equal(res.headers.get('access-control-allow-methods'), null)
  })

  test('a 401 to a listed origin exposes the challenge headers to the page', async () => {
    const res = await send(gw, '/api/items', { headers: { origin: APP } })
    assert.equal(res.status, 401)
    assert.equal(res.headers.get('access-control-allow-origin'), APP)
    const exposed = String(res.headers.get('access-control-expose-headers')).split(', ')
    for (const h of ['Signature-Error', 'AAuth-Requirement', 'Accept-Signature-Scheme', 'Accept-Signature-Alg', 'AAuth-Access']) {
      assert.ok(exposed.includes(h), `${h} exposed`)
    }
    assert.equal(res.headers.get('vary'), 'Origin')
  })

  test('a forwarded answer to a listed origin carries the CORS headers', async () => {
    const res = await send(gw, '/open/x', { headers: { origin: APP } })
    assert.equal(res.status, 200)
    assert.equal(res.headers.get('access-control-allow-origin'), APP)
    assert.match(String(res.headers.get('access-control-expose-headers')), /AAuth-Requirement/)
  })

  test('an unlisted origin, or a route without cors, gets no CORS headers', async () => {
    for (const [target, origin] of [['/api/items', OTHER], ['/open/y', OTHER], ['/plain/z', APP]] as const) {
      const res = await send(gw, target, { headers: { origin } })
      assert.equal(res.headers.get('access-control-allow-origin'), null, `${target} from ${origin}`)
      assert.equal(res.headers.get('access-control-expose-headers'), null)
    }
  })
})

test('CORS headers extend an upstream Vary rather than replace it', () => {
  const headers: Record<string, string> = { vary: 'Accept-Encoding', 'access-control-allow-origin': '*' }
  addCorsHeaders(headers, { 'access-control-allow-origin': APP, vary: 'Origin' })
  assert.deepEqual(headers, { vary: 'Accept-Encoding, Origin', 'access-control-allow-origin': APP })
})

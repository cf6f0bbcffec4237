import assert from 'node:assert/strict'
import type { IncomingMessage, ServerResponse } from 'node:http'
import { after, before, beforeEach, describe, test } from 'node:test'
import { signRequest } from '../../../src/devkit/sign.js'
import type { AgentServer } from '../../../src/devkit/agent-server.js'
import { callWithToken, mintAuthToken, RESOURCE_KEY_FILE, resourceKeyFile } from '../../helpers/authorization.js'
import { startBackend, type Backend } from '../../../src/devkit/backend.js'
import { AUTHORITY, startTestGateway, startTestWorld, type TestGateway, type TestWorld } from '../../helpers/gateway.js'
import { fieldLines, RawConnection, rawMessage, rawRequest, type RawResponse } from '../../helpers/raw-http.js'
import { newKey } from '../../../src/devkit/keys.js'

/**
 * Header hygiene (RFC 9110 §7.6.1, docs/headers-and-errors.md): the backend gets the client's end-to-end
 * headers and the identity the gateway established, never a forged identity, a hop-by-hop
 * field or a field `Connection` names; the client never gets the backend's hop-by-hop fields.
 */

const FORGED = [
  'X-AAuth-Agent: https://forged.example',
  'x-aauth-agent: forged-lower',
  'X_AAUTH_AGENT: forged-cgi',
  'x_aauth-level: authorized',
  'X-aauth_user: forged-user',
  'X-AAUTH-USER-ISSUER: https://forged.example',
  'X-AAuth-Thumbprint: forged-thumbprint',
  'X-AAuth-Scope: admin',
]

/** Names of the identity fields as the backend's parser saw them (any case, `_` or `-`). */
function identityFieldNames(rawHeaders: readonly string[]): string[] {
  return rawHeaders.filter((_, i) => i % 2 === 0).filter((n) => /^x[-_]aauth[-_]/i.test(n))
}

/** The backend's answer for the response-direction tests. */
function answer(req: IncomingMessage, res: ServerResponse): void {
  req.resume()
  req.on('end', () => {
    if (req.url === '/respond/hop-by-hop') {
      // A flat [name, value, ...] list, so the fields go out exactly as written.
      res.writeHead(200, [
        'Connection', 'X-Internal, x-other-internal',
        'X-Internal', '1',
        'X-Other-Internal', '2',
        'Keep-Alive', 'timeout=99, max=7',
        'Proxy-Authenticate', 'Basic realm="internal"',
        'Proxy-Anything', 'x',
        'X-Fine', 'yes',
        'Content-Length', '2',
      ])
      res.end('ok')
    } else if (req.url === '/respond/chunked') {
      res.writeHead(200, { 'content-type': 'text/plain', 'x-fine': 'yes' })
      res.write('first,')
      setImmediate(() => res.end('second'))
    } else {
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ url: req.url }))
    }
  })
}

describe('header hygiene in both directions (raw sockets)', () => {
  let backend: Backend
  let gw: TestGateway
  const key = newKey('Ed25519')

  before(async () => {
    backend = await startBackend({ handler: answer })
    gw = await startTestGateway({
      resource: { issuer: 'https://api.test', authority: AUTHORITY },
      signatures: { schemes: ['hwk'] },
      routes: [
        { name: 'signed', match: { path_prefix: '/signed' }, upstream: backend.url, access: 'pseudonymous' },
        { name: 'open', match: { path_prefix: '/' }, upstream: backend.url, access: 'open' },
      ],
    })
  })
  after(async () => {
    await gw.close()
    await backend.close()
  })
  beforeEach(() => backend.reset())

  const sign = (target: string, headers: Record<string, string> = {}, components?: string[]) =>
    fieldLines(signRequest({ method: 'GET', authority: AUTHORITY, target, headers }, key, { signatureKey: key.hwk, ...(components ? { components } : {}) }))

  test('no spelling of a forged identity header reaches the backend on an open route', async () => {
    const res = await rawRequest(gw.url, rawMessage('GET', '/open/x', [...FORGED, 'Connection: close']))
    assert.equal(res.status, 200, res.text)
    const got = backend.last()
    assert.deepEqual(identityFieldNames(got.rawHeaders), ['x-aauth-level'])
    assert.equal(got.headers['x-aauth-level'], 'none')
    assert.ok(!/forged|authorized|admin/.test(backend.raw()), 'no forged value in the bytes the backend read')
  })

  test('no spelling of a forged identity header reaches the backend on a signed route; the verified identity does', async () => {
    const res = await rawRequest(gw.url, rawMessage('GET', '/signed/x', [...sign('/signed/x'), ...FORGED, 'Connection: close']))
    assert.equal(res.status, 200, res.text)
    const got = backend.last()
    assert.deepEqual(identityFieldNames(got.rawHeaders).sort(), ['x-aauth-level', 'x-aauth-scheme', 'x-aauth-thumbprint'])
    assert.equal(got.headers['x-aauth-level'], 'pseudonymous')
    assert.notEqual(got.headers['x-aauth-thumbprint'], 'forged-thumbprint')
    assert.ok(!/forged|authorized|admin/.test(backend.raw()))
  })

  test('does not forward hop-by-hop request fields, nor the fields Connection names', async () => {
    const res = await rawRequest(
      gw.url,
      rawMessage('GET', '/open/hop', ['Connection: close, X-Secret', 'X-Secret: 1', 'Keep-Alive: timeout=1', 'TE: trailers', 'Trailer: X-T', 'Proxy-Authorization: Basic eA==', 'Proxy-Connection: keep-alive', 'X-Kept: yes']),
    )
    assert.equal(res.status, 200, res.text)
    const got = backend.last().headers
    for (const name of ['x-secret', 'keep-alive', 'te', 'trailer', 'proxy-authorization', 'proxy-connection']) assert.equal(got[name], undefined, name)
    assert.equal(got['x-kept'], 'yes')
    assert.ok(!backend.raw().includes('X-Secret'), 'X-Secret named by Connection never reached the backend')
  })

  test('does not relay the backend\'s hop-by-hop response fields, nor the fields its Connection names', async () => {
    const res = await rawRequest(gw.url, rawMessage('GET', '/respond/hop-by-hop', ['Connection: close']))
    assert.equal(res.status, 200)
    assert.equal(res.text, 'ok')
    assert.equal(res.header('x-fine'), 'yes')
    for (const name of ['x-internal', 'x-other-internal', 'proxy-authenticate', 'proxy-anything']) assert.equal(res.header(name), undefined, name)
    assert.ok(!res.headers('keep-alive').some((v) => v.includes('timeout=99')), 'the backend\'s Keep-Alive is not relayed')
    assert.ok(!res.headers('connection').some((v) => /internal/i.test(v)), 'the backend\'s Connection is not relayed')
  })

  test('relays a chunked response body intact and keeps the client connection usable', async () => {
    const conn = await RawConnection.open(gw.url)
    let first: RawResponse
    let second: RawResponse
    try {
      conn.write(rawMessage('GET', '/respond/chunked'))
      first = await conn.response()
      conn.write(rawMessage('GET', '/open/after'))
      second = await conn.response()
    } finally {
      conn.destroy()
    }
    assert.equal(first.status, 200)
    assert.equal(first.text, 'first,second')
    assert.equal(first.header('x-fine'), 'yes')
    assert.equal(second.json().url, '/open/after')
  })

  test('strips an unsigned Authorization: AAuth credential before the backend, and keeps other schemes', async () => {
    assert.equal((await rawRequest(gw.url, rawMessage('GET', '/open/auth', ['Authorization: AAuth xyz', 'Connection: close']))).status, 200)
    assert.equal(backend.last().headers.authorization, undefined)
    assert.equal((await rawRequest(gw.url, rawMessage('GET', '/open/auth', ['Authorization: aauth   lower', 'Connection: close']))).status, 200)
    assert.equal(backend.last().headers.authorization, undefined)
    assert.equal((await rawRequest(gw.url, rawMessage('GET', '/open/auth', ['Authorization: Bearer abc', 'Connection: close']))).status, 200)
    assert.equal(backend.last().headers.authorization, 'Bearer abc')
  })

  test('strips an unsigned AAuth credential however the Authorization field is split', async () => {
    for (const lines of [['Authorization: Bearer abc', 'Authorization: AAuth xyz'], ['Authorization: Bearer abc, AAuth xyz'], ['Authorization: AAuth xyz', 'Authorization: Bearer abc']]) {
      assert.equal((await rawRequest(gw.url, rawMessage('GET', '/open/auth', [...lines, 'Connection: close']))).status, 200)
      assert.ok(!/aauth/i.test(String(backend.last().headers.authorization ?? '')), JSON.stringify(lines))
    }
    assert.ok(!backend.raw().includes('xyz'))
  })

  test('never forwards a forged identity header sent as a chunked trailer', async () => {
    const res = await rawRequest(
      gw.url,
      rawMessage('POST', '/open/trailer', ['Transfer-Encoding: chunked', 'Trailer: X-AAuth-Agent', 'Connection: close'], '5\r\nhello\r\n0\r\nX-AAuth-Agent: https://forged.example\r\nX_AAUTH_LEVEL: authorized\r\n\r\n'),
    )
    assert.equal(res.status, 200, res.text)
    assert.equal(backend.last().body.toString(), 'hello')
    assert.ok(!/forged|authorized/.test(backend.raw()), 'the trailer fields never reached the backend')
  })

  test('refuses a signed request whose signature does not cover its Authorization: AAuth, naming authorization in required_input', async () => {
    for (const [target, auth] of [['/signed/auth', ['Authorization: AAuth xyz']], ['/open/auth', ['Authorization: AAuth xyz']], ['/signed/auth2', ['Authorization: Bearer abc', 'Authorization: AAuth xyz']]] as const) {
      const res = await rawRequest(gw.url, rawMessage('GET', target, [...sign(target), ...auth, 'Connection: close']))
      assert.equal(res.status, 401, `${target}: ${res.text}`)
      const signatureError = res.header('signature-error') ?? ''
      assert.match(signatureError, /^error=invalid_input, required_input=\(/)
      assert.match(signatureError, /"authorization"/)
      assert.ok((res.json().required_input as string[]).includes('authorization'))
    }
    assert.deepEqual(backend.arrived, [])
  })

  test('forwards Authorization: AAuth when the signature covers it', async () => {
    const headers = sign('/signed/covered', { authorization: 'AAuth xyz' }, ['@method', '@authority', '@path', 'signature-key', 'authorization'])
    const res = await rawRequest(gw.url, rawMessage('GET', '/signed/covered', [...headers, 'Authorization: AAuth xyz', 'Connection: close']))
    assert.equal(res.status, 200, res.text)
    assert.equal(backend.last().headers.authorization, 'AAuth xyz')
  })
})

describe('identity headers carry claim values a backend decodes back exactly', () => {
  // The test issuer plays the person server and mints auth tokens whose `sub` needs encoding.
  const RESOURCE = 'https://api.test'
  let ps: AgentServer
  let backend: Backend
  let gw: TestGateway
  const key = newKey('Ed25519')

  let world: TestWorld

  before(async () => {
    world = await startTestWorld(
      ({ issuers: [issuer], backend }) => ({
        resource: { issuer: RESOURCE, authority: AUTHORITY, signing_key: RESOURCE_KEY_FILE, scopes: { 'data.read': 'Read data' } },
        trust: { person_servers: [issuer!.origin], insecure_issuers: [issuer!.origin] },
        routes: [{ name: 'data', match: { path_prefix: '/data' }, upstream: backend.url, access: 'authorized', scopes: ['data.read'] }],
      }),
      { files: { [RESOURCE_KEY_FILE]: resourceKeyFile() } },
    )
    ;({ backend, gw } = world)
    ps = world.issuers[0]!
  })
  after(() => world.close())

  test('X-AAuth-User and X-AAuth-User-Issuer round-trip through decodeURIComponent for awkward subjects', async () => {
    for (const sub of ['person-1', '  padded person  ', 'a%20b', '100%', 'doe, jane', 'josé', 'tab\there', 'x\r\ny']) {
      const res = await callWithToken(gw, '/data', key, await mintAuthToken(ps, RESOURCE, key, { sub }))
      assert.equal(res.status, 200, `${JSON.stringify(sub)}: ${res.text}`)
      const got = backend.last().headers
      assert.equal(decodeURIComponent(String(got['x-aauth-user'])), sub, JSON.stringify(sub))
      assert.equal(decodeURIComponent(String(got['x-aauth-user-issuer'])), ps.origin)
      assert.equal(got['x-aauth-level'], 'authorized')
      assert.equal(got['x-aauth-scope'], 'data.read')
    }
  })
})

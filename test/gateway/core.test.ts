import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import { signRequest } from '../../src/devkit/sign.js'
import { startBackend, type Backend } from '../../src/devkit/backend.js'
import { closedPort } from '../helpers/ports.js'
import { AUTHORITY, send, startTestGateway, type TestGateway } from '../helpers/gateway.js'
import { independentlySigned } from '../helpers/independent-signer.js'
import { newKey } from '../../src/devkit/keys.js'

describe('gateway core (hwk, open and pseudonymous routes)', () => {
  let backend: Backend
  let slow: Backend
  let gw: TestGateway
  const key = newKey('Ed25519')

  before(async () => {
    backend = await startBackend()
    slow = await startBackend({ delayMs: 3000 })
    const down = await closedPort()
    gw = await startTestGateway({
      resource: { issuer: 'https://api.test', authority: AUTHORITY },
      signatures: { window: 60, schemes: ['hwk'], algorithms: ['Ed25519', 'ES256'], max_body_bytes: 1024 },
      routes: [
        { name: 'public', match: { path_prefix: '/public' }, upstream: backend.url, access: 'open' },
        { name: 'based', match: { path_prefix: '/based' }, upstream: `${backend.url}/api/v1`, access: 'open' },
        { name: 'data', match: { path_prefix: '/data' }, upstream: backend.url, access: 'pseudonymous' },
        { name: 'upload', match: { path_prefix: '/upload', methods: ['POST'] }, upstream: backend.url, access: 'pseudonymous', components: ['content-digest'] },
        { name: 'down', match: { path_prefix: '/down' }, upstream: `http://127.0.0.1:${down}`, access: 'open' },
        { name: 'slow', match: { path_prefix: '/slow' }, upstream: slow.url, access: 'open', timeout: 1 },
      ],
    })
  })
  after(async () => {
    await gw.close()
    await backend.close()
    await slow.close()
  })

  const sign = (target: string, opts: Partial<Parameters<typeof signRequest>[2]> = {}, method = 'GET', body?: string) =>
    signRequest({ method, authority: AUTHORITY, target, body }, key, { signatureKey: key.hwk, ...opts })

  test('accepts a request signed by an independent signer and forwards the identity', async () => {
    const headers = await independentlySigned(key.privateJwk, { type: 'hwk' }, '/data/items?x=1')
    const res = await send(gw, '/data/items?x=1', { headers: { ...headers, 'x-aauth-agent': 'https://forged.example' } })
    assert.equal(res.status, 200)
    const got = backend.last().headers
    assert.equal(got['x-aauth-level'], 'pseudonymous')
    assert.equal(got['x-aauth-scheme'], 'hwk')
    assert.match(String(got['x-aauth-thumbprint']), /^[A-Za-z0-9_-]{43}$/)
    assert.equal(got['x-aauth-agent'], undefined, 'a forged identity header must not reach the backend')
    assert.equal(got['x-forwarded-host'], AUTHORITY, 'a signed request forwards the @authority its signature covered')
    assert.equal(got.host, new URL(gw.url).host, 'Host stays the one the request was routed on')
    assert.equal(got['x-forwarded-proto'], 'http')
    assert.match(String(got['x-forwarded-for']), /127\.0\.0\.1/)
    assert.equal(backend.last().url, '/data/items?x=1')
  })

  test('forwards a digest-covered POST body byte for byte', async () => {
    const body = '{"hello": "world", "n": [1,2,3]}'
    const headers = await independentlySigned(key.privateJwk, { type: 'hwk' }, '/upload', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body,
    })
    const res = await send(gw, '/upload', { method: 'POST', headers, body })
    assert.equal(res.status, 200, res.text)
    assert.equal(backend.last().body.toString(), body)
  })

  test('answers an unsigned request on a signed route with the AAuth-Requirement challenge', async () => {
    const res = await send(gw, '/data')
    assert.equal(res.status, 401)
    assert.equal(res.headers.get('aauth-requirement'), 'requirement=agent-token')
    assert.equal(res.headers.get('accept-signature-scheme'), 'hwk')
    assert.equal(res.headers.get('accept-signature-alg'), 'Ed25519, ES256')
    assert.equal(res.headers.get('signature-error'), null)
    assert.equal(res.headers.get('content-type'), 'application/problem+json')
    assert.equal(res.json().status, 401)
  })

  test('forwards an unsigned request on an open route with level none and no other identity', async () => {
    const res = await send(gw, '/public/x', { headers: { 'x-aauth-user': 'forged', 'X-AAuth-Level': 'authorized' } })
    assert.equal(res.status, 200)
    const got = backend.last().headers
    assert.equal(got['x-aauth-level'], 'none')
    assert.deepEqual(Object.keys(got).filter((h) => h.startsWith('x-aauth-')), ['x-aauth-level'])
  })

  test('prepends the upstream path and keeps the query', async () => {
    assert.equal((await send(gw, '/based/x?y=1')).status, 200)
    assert.equal(backend.last().url, '/api/v1/based/x?y=1')
  })

  test('verifies a signed request on an open route and forwards its identity', async () => {
    const res = await send(gw, '/public/y', { headers: sign('/public/y') })
    assert.equal(res.status, 200)
    assert.equal(backend.last().headers['x-aauth-level'], 'pseudonymous')
  })

  test('refuses a replayed request with invalid_signature and counts it', async () => {
    const headers = sign('/data/once')
    assert.equal((await send(gw, '/data/once', { headers })).status, 200)
    const again = await send(gw, '/data/once', { headers })
    assert.equal(again.status, 401)
    assert.equal(again.headers.get('signature-error'), 'error=invalid_signature')
    const metrics = await (await fetch(gw.adminUrl + '/metrics')).text()
    assert.match(metrics, /aauth_gateway_replay_rejected_total [1-9]/)
  })

  test('refuses a body that does not match its Content-Digest', async () => {
    const headers = sign('/upload', {}, 'POST', 'original')
    const res = await send(gw, '/upload', { method: 'POST', headers, body: 'tampered' })
    assert.equal(res.status, 401)
    assert.equal(res.headers.get('signature-error'), 'error=invalid_signature')
  })

  test('answers 413 when a digest-checked body exceeds max_body_bytes', async () => {
    const body = 'x'.repeat(2048)
    const res = await send(gw, '/upload', { method: 'POST', headers: sign('/upload', {}, 'POST', body), body })
    assert.equal(res.status, 413)
    assert.equal(res.json().error, 'payload_too_large')
  })

  test('requires the route components, naming them in required_input', async () => {
    const headers = sign('/upload', { components: ['@method', '@authority', '@path', 'signature-key'] }, 'POST')
    const res = await send(gw, '/upload', { method: 'POST', headers, body: 'abc' })
    assert.equal(res.status, 401)
    assert.equal(
      res.headers.get('signature-error'),
      'error=invalid_input, required_input=("@method" "@authority" "@path" "signature-key" "content-digest")',
    )
  })

  test('refuses a signature missing an always-required component with invalid_input', async () => {
    const res = await send(gw, '/data', { headers: sign('/data', { components: ['@method', '@authority', '@path'] }) })
    assert.equal(res.status, 401)
    assert.match(res.headers.get('signature-error') ?? '', /^error=invalid_input, required_input=\(/)
  })

  test('refuses a stale created with invalid_signature and a future one with clock_skew', async () => {
    const now = Math.floor(Date.now() / 1000)
    const stale = await send(gw, '/data', { headers: sign('/data', { created: now - 120 }) })
    assert.equal(stale.headers.get('signature-error'), 'error=invalid_signature')
    const future = await send(gw, '/data', { headers: sign('/data', { created: now + 120 }) })
    assert.equal(future.status, 401)
    assert.equal(future.headers.get('signature-error'), 'error=clock_skew')
  })

  test('refuses an expired signature', async () => {
    const now = Math.floor(Date.now() / 1000)
    const res = await send(gw, '/data', { headers: sign('/data', { created: now - 5, expires: now - 1 }) })
    assert.equal(res.headers.get('signature-error'), 'error=invalid_signature')
  })

  test('refuses a signature over another path with invalid_signature', async () => {
    const res = await send(gw, '/data/b', { headers: sign('/data/a') })
    assert.equal(res.status, 401)
    assert.equal(res.headers.get('signature-error'), 'error=invalid_signature')
  })

  test('refuses a scheme it does not accept with unsupported_scheme and Accept-Signature-Scheme', async () => {
    const res = await send(gw, '/data', { headers: sign('/data', { signatureKey: 'jwt;jwt="a.b.c"' }) })
    assert.equal(res.headers.get('signature-error'), 'error=unsupported_scheme')
    assert.equal(res.headers.get('accept-signature-scheme'), 'hwk')
  })

  test('refuses an hwk algorithm it does not support with unsupported_algorithm and Accept-Signature-Alg', async () => {
    const hwk = key.hwk.replace('alg="Ed25519"', 'alg="RS256"')
    const res = await send(gw, '/data', { headers: sign('/data', { signatureKey: hwk }) })
    assert.equal(res.headers.get('signature-error'), 'error=unsupported_algorithm')
    assert.equal(res.headers.get('accept-signature-alg'), 'Ed25519, ES256')
  })

  test('verifies ES256 signatures', async () => {
    const ec = newKey('ES256')
    const headers = signRequest({ method: 'GET', authority: AUTHORITY, target: '/data/ec' }, ec, { signatureKey: ec.hwk })
    assert.equal((await send(gw, '/data/ec', { headers })).status, 200)
  })

  test('refuses a label repeated in any signature header with invalid_input', async () => {
    const headers = sign('/data')
    for (const name of ['signature-input', 'signature', 'signature-key'] as const) {
      const value = headers[name] as string
      const res = await send(gw, '/data', { headers: { ...headers, [name]: `${value}, ${value}` } })
      assert.equal(res.status, 401, name)
      assert.match(res.headers.get('signature-error') ?? '', /^error=invalid_input/, name)
    }
  })

  test('refuses a request carrying only some of the signature headers with invalid_signature', async () => {
    const { signature: _drop, ...headers } = sign('/data')
    const res = await send(gw, '/data', { headers })
    assert.equal(res.headers.get('signature-error'), 'error=invalid_signature')
  })

  test('answers malformed signature headers with a 4xx and keeps serving', async () => {
    const good = sign('/data')
    const junk = ['', '=', 'sig', 'sig=(', 'sig=:!!!:', 'sig=("@method" 1);created=x', '\u00ff\u00fe', 'a'.repeat(8000), 'sig=hwk;alg=1', 'sig=();created=1']
    for (const name of ['signature-input', 'signature', 'signature-key'] as const) {
      for (const value of junk) {
        const res = await send(gw, '/data', { headers: { ...good, [name]: value } }).catch(() => undefined)
        if (res) assert.ok(res.status >= 400 && res.status < 500, `${name}: ${JSON.stringify(value.slice(0, 20))} -> ${res.status}`)
      }
    }
    assert.equal((await send(gw, '/data', { headers: sign('/data/still') }).then(() => send(gw, '/public'))).status, 200)
  })

  test('matches path prefixes on whole segments and answers 404 otherwise', async () => {
    const res = await send(gw, '/database')
    assert.equal(res.status, 404)
    assert.equal(res.json().error, 'not_found')
    assert.equal(res.headers.get('content-type'), 'application/problem+json')
  })

  test('answers 405 when the path matches a route only under another method', async () => {
    assert.equal((await send(gw, '/upload')).status, 405)
  })

  test('answers 502 when the upstream is down and 504 when it is too slow', async () => {
    const down = await send(gw, '/down')
    assert.equal(down.status, 502)
    assert.equal(down.json().error, 'bad_gateway')
    const slowRes = await send(gw, '/slow')
    assert.equal(slowRes.status, 504)
    assert.equal(slowRes.json().error, 'gateway_timeout')
  })

  test('serves health, readiness and the contract metrics on the admin listener', async () => {
    assert.equal((await fetch(gw.adminUrl + '/healthz')).status, 200)
    assert.equal((await fetch(gw.adminUrl + '/readyz')).status, 200)
    const text = await (await fetch(gw.adminUrl + '/metrics')).text()
    for (const name of [
      'aauth_gateway_requests_total',
      'aauth_gateway_request_duration_seconds',
      'aauth_gateway_verify_duration_seconds',
      'aauth_gateway_upstream_duration_seconds',
      'aauth_gateway_replay_rejected_total',
      'process_cpu_seconds_total',
    ]) {
      assert.ok(text.includes(name), name)
    }
    assert.match(text, /aauth_gateway_requests_total\{route="data",decision="allow",reason="ok",level="pseudonymous"\} [1-9]/)
    assert.ok(!text.includes(AUTHORITY), 'no request data in labels')
  })

  test('writes one decision line per request without token or key material', async () => {
    const before = gw.decisions.length
    await send(gw, '/data/logged', { headers: sign('/data/logged') })
    const entry = gw.decisions.at(-1)
    assert.equal(gw.decisions.length, before + 1)
    assert.equal(entry?.route, 'data')
    assert.equal(entry?.decision, 'allow')
    assert.equal(entry?.status, 200, 'a forwarded request logs the status the backend answered')
    assert.ok(!JSON.stringify(entry).includes(key.publicJwk.x as string))
  })
})

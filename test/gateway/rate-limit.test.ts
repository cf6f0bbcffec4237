import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import { signRequest } from '../../src/devkit/sign.js'
import { assertProblemAnswer, assertRateLimit, metricValue } from '../helpers/admin.js'
import { startBackend, type Backend } from '../../src/devkit/backend.js'
import { AUTHORITY, send, startTestGateway, type Answer, type TestGateway } from '../helpers/gateway.js'
import { newKey, type DevKey } from '../../src/devkit/keys.js'

let sequence = 0
function signed(gw: TestGateway, key: DevKey, prefix: string, headers: Record<string, string> = {}): Promise<Answer> {
  const target = `${prefix}/${++sequence}`
  const components = ['@method', '@authority', '@path', 'signature-key', ...Object.keys(headers)]
  const sig = signRequest({ method: 'GET', authority: AUTHORITY, target, headers }, key, { signatureKey: key.hwk, components })
  return send(gw, target, { headers: { ...headers, ...sig } })
}

describe('per-route rate limits on the memory store (rate_limit)', () => {
  let backend: Backend
  let gw: TestGateway

  before(async () => {
    backend = await startBackend()
    gw = await startTestGateway(
      {
        resource: { issuer: 'https://api.test', authority: AUTHORITY },
        signatures: { schemes: ['hwk'] },
        policies: './policies',
        routes: [
          { name: 'agents', match: { path_prefix: '/agents' }, upstream: backend.url, access: 'pseudonymous', rate_limit: { requests: 3, per: 60 } },
          { name: 'open', match: { path_prefix: '/open' }, upstream: backend.url, access: 'open', rate_limit: { requests: 2, per: 60 } },
          { name: 'denied', match: { path_prefix: '/denied' }, upstream: backend.url, access: 'pseudonymous', policy: 'nobody', rate_limit: { requests: 2, per: 30 } },
          {
            name: 'tenants',
            match: { path_prefix: '/tenants' },
            upstream: backend.url,
            access: 'pseudonymous',
            rate_limit: { requests: 2, per: 60, key: 'request.headers["x-tenant"]' },
          },
          { name: 'plain', match: { path_prefix: '/plain' }, upstream: backend.url, access: 'pseudonymous' },
        ],
      },
      { 'policies/nobody.yaml': 'name: nobody\nrules:\n  - deny: "true"\n' },
    )
  })
  after(async () => {
    await Promise.allSettled([gw?.close(), backend?.close()])
  })

  test('counts each signing key (aauth.agent is empty for hwk): 3 forwarded with the fields, then 429 with Retry-After', async () => {
    const key = newKey('Ed25519')
    for (const remaining of [2, 1, 0]) {
      const res = await signed(gw, key, '/agents')
      assert.equal(res.status, 200, res.text)
      assert.equal(res.headers.get('ratelimit-policy'), '"default";q=3;w=60')
      assertRateLimit(res.headers.get('ratelimit'), remaining, 50, 60)
    }
    const forwarded = backend.received.length
    const refused = await signed(gw, key, '/agents')
    assertProblemAnswer(refused, 429, 'rate_limited')
    const retryAfter = Number(refused.headers.get('retry-after'))
    assert.ok(retryAfter >= 50 && retryAfter <= 60, `Retry-After ${retryAfter}`)
    assertRateLimit(refused.headers.get('ratelimit'), 0, retryAfter, retryAfter)
    assert.equal(backend.received.length, forwarded, 'not forwarded')
    assert.equal(gw.decisions.at(-1)?.reason, 'rate_limited')
    assert.equal(gw.decisions.at(-1)?.status, 429)
    assert.equal(await metricValue(gw, 'aauth_gateway_rate_limited_total{route="agents"}'), 1)
    assert.equal(await metricValue(gw, 'aauth_gateway_requests_total{route="agents",decision="error",reason="rate_limited",level="pseudonymous"}'), 1)
    assert.equal((await signed(gw, newKey('ES256'), '/agents')).status, 200, 'another key has its own budget')
  })

  test('counts unsigned requests on an open route by client address, and signed ones by their key', async () => {
    assert.equal((await send(gw, '/open/1')).status, 200)
    const second = await send(gw, '/open/2')
    assert.equal(second.status, 200)
    assert.match(second.headers.get('ratelimit') ?? '', /^"default";r=0;t=\d+$/)
    assertProblemAnswer(await send(gw, '/open/3'), 429, 'rate_limited')
    assert.equal((await signed(gw, newKey('Ed25519'), '/open')).status, 200, 'a signed request counts against its key, not the address')
  })

  test('a request is counted before the policy runs: a policy denial carries the fields and uses the budget', async () => {
    const key = newKey('Ed25519')
    const first = await signed(gw, key, '/denied')
    assert.equal(first.status, 403)
    assert.equal(first.headers.get('ratelimit-policy'), '"default";q=2;w=30')
    assertRateLimit(first.headers.get('ratelimit'), 1, 20, 30)
    assert.equal((await signed(gw, key, '/denied')).status, 403)
    assertProblemAnswer(await signed(gw, key, '/denied'), 429, 'rate_limited')
  })

  test('a request refused before its identity is established is not counted and carries no fields', async () => {
    const res = await send(gw, '/agents/unsigned')
    assert.equal(res.status, 401)
    assert.equal(res.headers.get('ratelimit'), null)
    assert.equal(res.headers.get('ratelimit-policy'), null)
    const plain = await signed(gw, newKey('Ed25519'), '/plain')
    assert.equal(plain.status, 200)
    assert.equal(plain.headers.get('ratelimit-policy'), null, 'a route without rate_limit sends no fields')
  })

  test('keys on the expression; when it fails to evaluate, falls back to the signing key', async () => {
    const [k1, k2] = [newKey('Ed25519'), newKey('Ed25519')]
    assert.equal((await signed(gw, k1, '/tenants', { 'x-tenant': 'acme' })).status, 200)
    assert.equal((await signed(gw, k2, '/tenants', { 'x-tenant': 'acme' })).status, 200)
    assertProblemAnswer(await signed(gw, k1, '/tenants', { 'x-tenant': 'acme' }), 429, 'rate_limited')
    assert.equal((await signed(gw, k1, '/tenants', { 'x-tenant': 'globex' })).status, 200, 'another tenant, another budget')
    // No x-tenant header: the expression fails (no such key), so k2 counts by its thumbprint.
    const fallback = await signed(gw, k2, '/tenants')
    assert.equal(fallback.status, 200)
    assert.match(fallback.headers.get('ratelimit') ?? '', /^"default";r=1;/)
  })
})

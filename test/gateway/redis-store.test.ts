import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import { decodeJwt } from 'jose'
import { signRequest } from '../../src/devkit/sign.js'
import { assertProblemAnswer, assertRateLimit, metricValue, readyz } from '../helpers/admin.js'
import { startAgentServer, type AgentServer } from '../../src/devkit/agent-server.js'
import { RESOURCE_KEY_FILE, callWithToken, mintAuthToken, mintPersonToken, resourceKeyFile } from '../helpers/authorization.js'
import { startBackend, type Backend } from '../../src/devkit/backend.js'
import { eventually } from '../helpers/eventually.js'
import { AUTHORITY, send, startTestGateway, type Answer, type TestGateway } from '../helpers/gateway.js'
import { startRedis, type TestRedis } from '../helpers/redis.js'
import { newKey, type DevKey } from '../../src/devkit/keys.js'

const RESOURCE = 'https://api.test'
const REVOCATION = '/aauth/revocation'
const BODY_COMPONENTS = ['@method', '@authority', '@path', 'signature-key', 'content-digest', 'content-type']

function routes(upstream: string, authorized = false): Record<string, unknown>[] {
  return [
    { name: 'public', match: { path_prefix: '/public' }, upstream, access: 'open' },
    { name: 'data', match: { path_prefix: '/data' }, upstream, access: 'pseudonymous' },
    { name: 'limited', match: { path_prefix: '/limited' }, upstream, access: 'pseudonymous', rate_limit: { requests: 4, per: 60 } },
    ...(authorized
      ? [
          { name: 'authz', match: { path_prefix: '/authz' }, upstream, access: 'authorized', scopes: ['data.read'] },
          { name: 'held', match: { path_prefix: '/held' }, upstream, access: 'auth-token', scopes: ['data.read'], deferred: true },
        ]
      : []),
  ]
}

let sequence = 0
/** A fresh hwk-signed GET (a new path each time, so it is never a replay of another). */
function signedGet(key: DevKey, prefix: string): { target: string; headers: Record<string, string> } {
  const target = `${prefix}/${++sequence}`
  return { target, headers: signRequest({ method: 'GET', authority: AUTHORITY, target }, key, { signatureKey: key.hwk }) }
}

describe('two gateways sharing one Redis (store.type: redis)', () => {
  let redis: TestRedis
  let backend: Backend
  let ps: AgentServer
  let a: TestGateway
  let b: TestGateway
  const key = newKey('Ed25519')

  before(async () => {
    ;[redis, backend, ps] = await Promise.all([startRedis(), startBackend(), startAgentServer()])
    const config = {
      resource: { issuer: RESOURCE, authority: AUTHORITY, signing_key: RESOURCE_KEY_FILE, scopes: { 'data.read': 'Read data' } },
      trust: { person_servers: [ps.origin], insecure_issuers: [ps.origin] },
      store: { type: 'redis', url: redis.url, key_prefix: 'two:' },
      routes: routes(backend.url, true),
    }
    ;[a, b] = await Promise.all([startTestGateway(config, { [RESOURCE_KEY_FILE]: resourceKeyFile() }), startTestGateway(config, { [RESOURCE_KEY_FILE]: resourceKeyFile() })])
  })
  after(async () => {
    // Whatever started is stopped, even after a failed `before`: a live redis-server would keep the run alive.
    await Promise.allSettled([a?.close(), b?.close(), backend?.close(), ps?.close()])
    await redis?.stop()
  })

  test('both become ready, with the store up, once their Redis connection is open', async () => {
    for (const gw of [a, b]) {
      // The connection opens in the background; /readyz is 503 until it has.
      await eventually('/readyz answers 200', async () => (await readyz(gw)) === 200)
      assert.equal(await metricValue(gw, 'aauth_gateway_store_up'), 1)
    }
  })

  test('a request accepted by A and replayed to B is refused', async () => {
    const { target, headers } = signedGet(key, '/data')
    assert.equal((await send(a, target, { headers })).status, 200)
    const forwarded = backend.received.length
    const replay = await send(b, target, { headers })
    assert.equal(replay.status, 401, replay.text)
    assert.equal(replay.headers.get('signature-error'), 'error=invalid_signature')
    assert.equal(await metricValue(b, 'aauth_gateway_replay_rejected_total'), 1)
    assert.equal(backend.received.length, forwarded, 'the replay never reached the backend')
  })

  test('a token revoked at A is refused at B within a second', async (t) => {
    const token = await mintAuthToken(ps, RESOURCE, key)
    assert.equal((await callWithToken(b, '/authz', key, token)).status, 200, 'accepted at B before the revocation')
    const k = ps.keys.at(-1) ?? ps.addKey()
    const { jti, exp } = decodeJwt(token)
    const init = { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ jti, exp }) }
    const headers = signRequest({ ...init, authority: AUTHORITY, target: REVOCATION }, k, {
      signatureKey: `jwks_uri;id="${ps.origin}";dwk="aauth-person.json";kid="${k.kid}"`,
      components: BODY_COMPONENTS,
    })
    const revoked = await send(a, REVOCATION, { ...init, headers: { ...init.headers, ...headers } })
    assert.equal(revoked.status, 200, revoked.text)
    const started = performance.now()
    let last: Answer | undefined
    await eventually(
      'B refuses the revoked token',
      async () => {
        last = await callWithToken(b, '/authz', key, token)
        return last.headers.get('signature-error') === 'error=revoked_jwt'
      },
      { timeoutMs: 1000, intervalMs: 5 },
    )
    t.diagnostic(`revocation at A refused at B after ${(performance.now() - started).toFixed(1)} ms (including one request to B)`)
    assert.equal(last?.status, 401)
  })

  test('a request held by A (202, AAuth -11 §6.5.1) is completed by a poll to B, once', async () => {
    const signed = (target: string, token: string, extra: Record<string, string> = {}): Record<string, string> => ({
      ...extra,
      ...signRequest({ method: 'GET', authority: AUTHORITY, target, headers: extra }, key, { signatureKey: `jwt;jwt="${token}"` }),
    })
    const target = `/held/${++sequence}`
    const held = await send(a, target, { headers: signed(target, await mintPersonToken(ps, RESOURCE, key), { prefer: 'respond-async' }) })
    assert.equal(held.status, 202, held.text)
    const location = held.headers.get('location') ?? ''
    const before = backend.received.length
    const auth = await mintAuthToken(ps, RESOURCE, key)
    const done = await send(b, location, { headers: signed(location, auth) })
    assert.equal(done.status, 200, done.text)
    assert.equal(backend.received.length, before + 1)
    assert.equal(backend.last().url, target)
    const other = await send(a, location, { headers: signed(location, await mintAuthToken(ps, RESOURCE, key)) })
    assert.equal(other.status, 410, 'A sees the completion B kept')
  })

  test('a rate limit is shared by A and B, with RateLimit-Policy and RateLimit on every counted answer', async () => {
    const agent = newKey('Ed25519')
    for (const [i, gw] of [a, b, a, b].entries()) {
      const { target, headers } = signedGet(agent, '/limited')
      const res = await send(gw, target, { headers })
      assert.equal(res.status, 200, res.text)
      assert.equal(res.headers.get('ratelimit-policy'), '"default";q=4;w=60')
      assertRateLimit(res.headers.get('ratelimit'), 3 - i, 50, 60)
    }
    const { target, headers } = signedGet(agent, '/limited')
    const refused = await send(b, target, { headers })
    assertProblemAnswer(refused, 429, 'rate_limited')
    const retryAfter = Number(refused.headers.get('retry-after'))
    assert.ok(retryAfter >= 50 && retryAfter <= 60, `Retry-After ${retryAfter}`)
    assertRateLimit(refused.headers.get('ratelimit'), 0, retryAfter, retryAfter)
    assert.equal(refused.headers.get('ratelimit-policy'), '"default";q=4;w=60')
    assert.equal(b.decisions.at(-1)?.reason, 'rate_limited')
    assert.equal(await metricValue(b, 'aauth_gateway_rate_limited_total{route="limited"}'), 1)
    const other = signedGet(newKey('Ed25519'), '/limited')
    assert.equal((await send(a, other.target, { headers: other.headers })).status, 200, 'another agent has its own budget')
  })
})

describe('a Redis outage (store.timeout, fail closed; and store.fail_open)', () => {
  const TIMEOUT = 0.2
  let redis: TestRedis
  let backend: Backend
  let closed: TestGateway
  let open: TestGateway
  const key = newKey('Ed25519')

  before(async () => {
    ;[redis, backend] = await Promise.all([startRedis(), startBackend()])
    const config = (failOpen: boolean): Record<string, unknown> => ({
      resource: { issuer: RESOURCE, authority: AUTHORITY },
      store: { type: 'redis', url: redis.url, key_prefix: failOpen ? 'open:' : 'closed:', timeout: TIMEOUT, fail_open: failOpen },
      routes: routes(backend.url),
    })
    ;[closed, open] = await Promise.all([startTestGateway(config(false)), startTestGateway(config(true))])
  })
  after(async () => {
    await Promise.allSettled([closed?.close(), open?.close(), backend?.close()])
    await redis?.stop()
  })

  /** Sends one fresh signed request and measures how long the answer took. */
  async function timedSigned(gw: TestGateway, prefix: string): Promise<{ res: Answer; ms: number }> {
    const { target, headers } = signedGet(key, prefix)
    const started = performance.now()
    const res = await send(gw, target, { headers })
    return { res, ms: performance.now() - started }
  }

  test('a Redis too slow to answer: 503 store_unavailable within the timeout plus a little, then recovery', async () => {
    // With a 0.2 s timeout, a loaded machine can make the gateway's first health check late: it
    // then starts with the store down, which is not what this test is about. Wait until it is up.
    await eventually('the store is up', async () => (await readyz(closed)) === 200, { timeoutMs: 10_000 })
    closed.opsLines.length = 0
    assert.equal((await timedSigned(closed, '/data')).res.status, 200)
    await redis.command('CLIENT', 'PAUSE', '1500', 'ALL')
    const { res, ms } = await timedSigned(closed, '/data')
    assertProblemAnswer(res, 503, 'store_unavailable')
    assert.equal(res.headers.get('retry-after'), '2')
    assert.ok(ms < TIMEOUT * 1000 + 800, `answered after ${ms} ms`)
    await eventually('the store is back after the pause', async () => (await readyz(closed)) === 200, { timeoutMs: 6000 })
    assert.equal((await timedSigned(closed, '/data')).res.status, 200)
    assert.equal(notices(closed).length, 2, JSON.stringify(notices(closed)))
  })

  test('Redis stopped under load: 503s with Retry-After, /readyz 503, store_up 0, no hang; open routes still answer; then recovery without a restart', async (t) => {
    await eventually('the store is up', async () => (await readyz(closed)) === 200, { timeoutMs: 10_000 })
    closed.opsLines.length = 0
    const errorsBefore = await metricValue(closed, 'aauth_gateway_store_errors_total{op="replay"}')
    // Load in flight while Redis dies: every answer comes, none hangs, none is a 500.
    const load = Promise.all(Array.from({ length: 60 }, (_, i) => timedSigned(closed, i % 2 === 0 ? '/data' : '/limited')))
    await redis.stop()
    const during = await load
    for (const { res, ms } of during) {
      assert.ok(res.status === 200 || res.status === 503, `status ${res.status}: ${res.text}`)
      if (res.status === 503) {
        assertProblemAnswer(res, 503, 'store_unavailable')
        assert.equal(res.headers.get('retry-after'), '2')
      }
      assert.ok(ms < 5000, `answered after ${ms} ms`)
    }
    await eventually('/readyz answers 503', async () => (await readyz(closed)) === 503)
    const after = await Promise.all(Array.from({ length: 20 }, (_, i) => timedSigned(closed, i % 2 === 0 ? '/data' : '/limited')))
    for (const { res, ms } of after) {
      assertProblemAnswer(res, 503, 'store_unavailable')
      assert.ok(ms < TIMEOUT * 1000 + 800, `answered after ${ms} ms`)
    }
    t.diagnostic(`503 answers during the outage took at most ${Math.max(...after.map((x) => x.ms)).toFixed(1)} ms`)
    assert.equal(await metricValue(closed, 'aauth_gateway_store_up'), 0)
    assert.ok((await metricValue(closed, 'aauth_gateway_store_errors_total{op="replay"}')) > errorsBefore)
    assert.ok((await metricValue(closed, 'aauth_gateway_store_errors_total{op="rate_limit"}')) > 0)
    assert.equal(closed.decisions.at(-1)?.reason, 'store_unavailable')
    const unsigned = await send(closed, '/public/x')
    assert.equal(unsigned.status, 200, 'an unsigned request on an open route needs no store')
    assert.equal(notices(closed).filter((l) => l.level === 'warn' && String(l.msg).startsWith('state store ')).length, 1, JSON.stringify(notices(closed)))
    assert.equal(notices(closed).length, 1, 'one line for the whole outage, not one per request')

    await redis.start()
    const restarted = performance.now()
    await eventually('/readyz answers 200 again', async () => (await readyz(closed)) === 200, { timeoutMs: 6000 })
    t.diagnostic(`ready again ${(performance.now() - restarted).toFixed(0)} ms after Redis restarted`)
    assert.equal((await timedSigned(closed, '/data')).res.status, 200)
    assert.equal((await timedSigned(closed, '/limited')).res.status, 200)
    assert.equal(await metricValue(closed, 'aauth_gateway_store_up'), 1)
    assert.equal(notices(closed).length, 2, JSON.stringify(notices(closed)))
    assert.equal(notices(closed)[1]?.level, 'info')
    assert.match(String(notices(closed)[1]?.msg), /^state store redis:\/\/127\.0\.0\.1:\d+\/0 is back after [\d.]+ s/)
  })

  test('fail_open: true accepts signed requests without the replay check (counted), and rate-limited ones without a count', async () => {
    await redis.stop()
    try {
      await eventually('the fail-open gateway sees the outage', async () => (await readyz(open)) === 503)
      const { target, headers } = signedGet(key, '/data')
      assert.equal((await send(open, target, { headers })).status, 200)
      assert.equal((await send(open, target, { headers })).status, 200, 'the trade-off: a replay goes through while the store is down')
      assert.ok((await metricValue(open, 'aauth_gateway_store_fail_open_total{op="replay"}')) >= 2)
      const limited = signedGet(key, '/limited')
      const res = await send(open, limited.target, { headers: limited.headers })
      assert.equal(res.status, 200)
      assert.equal(res.headers.get('ratelimit-policy'), '"default";q=4;w=60')
      assert.equal(res.headers.get('ratelimit'), null, 'no count, so no remaining quota to tell')
      assert.equal(await metricValue(open, 'aauth_gateway_store_fail_open_total{op="rate_limit"}'), 1)
      assertProblemAnswer((await timedSigned(closed, '/data')).res, 503, 'store_unavailable')
    } finally {
      await redis.start()
    }
    await eventually('both gateways are ready again', async () => (await readyz(open)) === 200 && (await readyz(closed)) === 200, { timeoutMs: 6000 })
  })
})

/** The operational lines about the state store (its outage's start and end). */
function notices(gw: TestGateway): Record<string, unknown>[] {
  return gw.opsLines.filter((l) => String(l.msg).startsWith('state store '))
}

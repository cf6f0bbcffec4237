import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import { StoreUnavailableError } from '../../src/errors.js'
import type { StoreOp } from '../../src/metrics/metrics.js'
import { RedisStateStore } from '../../src/store/redis.js'
import { eventually } from '../helpers/eventually.js'
import { startRedis, type TestRedis } from '../helpers/redis.js'

interface Recorded {
  store: RedisStateStore
  errors: StoreOp[]
  ups: boolean[]
  notices: string[]
}

async function openStore(redis: TestRedis, opts: { prefix?: string; timeoutMs?: number; maxEntries?: number; maxPerIssuer?: number } = {}): Promise<Recorded> {
  const errors: StoreOp[] = []
  const ups: boolean[] = []
  const notices: string[] = []
  const store = new RedisStateStore({
    url: redis.url,
    keyPrefix: opts.prefix ?? 'test:',
    timeoutMs: opts.timeoutMs ?? 250,
    revocation: { maxEntries: opts.maxEntries ?? 100, maxPerIssuer: opts.maxPerIssuer ?? 10 },
    events: { onError: (op) => void errors.push(op), onUp: (up) => void ups.push(up), log: { warn: (_fields, msg) => void notices.push(`aauth-gateway: warn: ${msg}`), info: (_fields, msg) => void notices.push(`aauth-gateway: info: ${msg}`) } },
  })
  await store.start()
  return { store, errors, ups, notices }
}

describe('the Redis state store (docs/state-store.md)', () => {
  let redis: TestRedis
  const open: RedisStateStore[] = []
  const track = async (p: Promise<Recorded>): Promise<Recorded> => {
    const r = await p
    open.push(r.store)
    return r
  }

  before(async () => {
    redis = await startRedis()
  })
  after(async () => {
    await Promise.all(open.map((s) => s.close()))
    await redis.stop()
  })

  test('records a signature once, under the key prefix and with a TTL', async () => {
    const { store } = await track(openStore(redis, { prefix: 'gw-a:' }))
    assert.equal(store.up, true)
    assert.deepEqual(await store.replay.remember('thumb base', 120), { outcome: 'added' })
    assert.deepEqual(await store.replay.remember('thumb base', 120), { outcome: 'seen' })
    const ttl = Number(await redis.command('TTL', 'gw-a:replay:thumb base'))
    assert.ok(ttl > 100 && ttl <= 120, `TTL ${ttl}`)
    const other = await track(openStore(redis, { prefix: 'gw-b:' }))
    assert.deepEqual(await other.store.replay.remember('thumb base', 120), { outcome: 'added' }, 'another prefix is another gateway')
  })

  test('counts a rate limit atomically: 40 concurrent hits on a limit of 10 admit exactly 10', async () => {
    const { store } = await track(openStore(redis))
    const decisions = await Promise.all(Array.from({ length: 40 }, () => store.rates.hit('agent-1', 10, 30)))
    assert.equal(decisions.filter((d) => d.allowed).length, 10)
    assert.deepEqual(
      decisions.map((d) => d.remaining).sort((a, b) => b - a).slice(0, 10),
      [9, 8, 7, 6, 5, 4, 3, 2, 1, 0],
    )
    for (const d of decisions) assert.ok(d.resetSeconds >= 25 && d.resetSeconds <= 30, `reset ${d.resetSeconds}`)
    const keys = (await redis.command('KEYS', 'test:rate:*')) as string[]
    assert.equal(keys.length, 1, 'one counter, its key hashed')
    assert.doesNotMatch(keys[0] ?? '', /agent-1/)
    const pttl = Number(await redis.command('PTTL', keys[0] ?? ''))
    assert.ok(pttl > 25_000 && pttl <= 30_000, `PTTL ${pttl}`)
  })

  test('a revocation written by one instance is seen by another within a second, from its local copy', async (t) => {
    const a = await track(openStore(redis, { prefix: 'rev1:' }))
    const b = await track(openStore(redis, { prefix: 'rev1:' }))
    await eventually('B loaded the revocations', () => b.store.revoked.isCurrent)
    assert.equal(b.store.revoked.has('https://ps.example jti-1'), false, 'answered locally, without a promise')
    const started = performance.now()
    assert.deepEqual(await a.store.revoked.remember('https://ps.example jti-1', 600, 'https://ps.example'), { outcome: 'added' })
    assert.equal(a.store.revoked.has('https://ps.example jti-1'), true, 'the writer knows at once')
    await eventually('B hears the revocation', () => b.store.revoked.has('https://ps.example jti-1') === true, { timeoutMs: 1000, intervalMs: 1 })
    const ms = performance.now() - started
    assert.ok(ms < 1000, `seen after ${ms} ms`)
    t.diagnostic(`revocation written at A seen in B's local copy after ${ms.toFixed(2)} ms`)
    assert.deepEqual(await b.store.revoked.remember('https://ps.example jti-1', 600, 'https://ps.example'), { outcome: 'seen' })
    const ttl = Number(await redis.command('TTL', 'rev1:revoked:https://ps.example jti-1'))
    assert.ok(ttl > 580 && ttl <= 600, `TTL ${ttl}`)
    // An instance that starts later loads it.
    const c = await track(openStore(redis, { prefix: 'rev1:' }))
    await eventually('C loaded the revocations', () => c.store.revoked.isCurrent)
    assert.equal(c.store.revoked.has('https://ps.example jti-1'), true)
  })

  test('bounds revocations per issuer and in all, for the whole fleet, with Retry-After', async () => {
    const a = await track(openStore(redis, { prefix: 'rev2:', maxEntries: 3, maxPerIssuer: 2 }))
    const b = await track(openStore(redis, { prefix: 'rev2:', maxEntries: 3, maxPerIssuer: 2 }))
    assert.equal((await a.store.revoked.remember('ps1 j1', 100, 'ps1')).outcome, 'added')
    assert.equal((await b.store.revoked.remember('ps1 j2', 200, 'ps1')).outcome, 'added')
    const overIssuer = await a.store.revoked.remember('ps1 j3', 300, 'ps1')
    assert.equal(overIssuer.outcome, 'full')
    assert.ok(overIssuer.outcome === 'full' && overIssuer.bound === 'group' && overIssuer.retryAfterSeconds >= 90 && overIssuer.retryAfterSeconds <= 100, JSON.stringify(overIssuer))
    assert.equal((await b.store.revoked.remember('ps2 j1', 50, 'ps2')).outcome, 'added')
    const overAll = await a.store.revoked.remember('ps3 j1', 300, 'ps3')
    assert.ok(overAll.outcome === 'full' && overAll.bound === 'store' && overAll.retryAfterSeconds >= 40 && overAll.retryAfterSeconds <= 50, JSON.stringify(overAll))
    assert.equal(a.store.revoked.has('ps3 j1'), false, 'a refused revocation is not recorded')
    for (const key of ['rev2:revocations', 'rev2:revocations:ps1', 'rev2:revocations:ps2']) {
      const pttl = Number(await redis.command('PTTL', key))
      assert.ok(pttl > 0, `${key} has a TTL (${pttl})`)
    }
  })

  test('a slow Redis fails an operation within the timeout, and the store is down until it answers again', async () => {
    const r = await track(openStore(redis, { prefix: 'slow:', timeoutMs: 100 }))
    await redis.command('CLIENT', 'PAUSE', '1500', 'ALL')
    const started = performance.now()
    await assert.rejects(Promise.resolve(r.store.replay.remember('k', 10)), (err: unknown) => {
      assert.ok(err instanceof StoreUnavailableError, String(err))
      assert.equal(err.retryAfterSeconds, 2)
      return true
    })
    const ms = performance.now() - started
    assert.ok(ms >= 90 && ms < 1000, `failed after ${ms} ms`)
    assert.equal(r.store.up, false)
    assert.ok(r.errors.includes('replay'))
    await eventually('the store is back', () => r.store.up, { timeoutMs: 5000 })
    assert.deepEqual(await r.store.replay.remember('k2', 10), { outcome: 'added' })
    assert.equal(r.notices.filter((l) => l.includes(': warn: ')).length, 1, r.notices.join('\n'))
    assert.equal(r.notices.filter((l) => l.includes(': info: ')).length, 1, r.notices.join('\n'))
    assert.deepEqual(r.ups, [true, false, true])
  })
})

describe('the Redis state store through an outage', () => {
  test('starts while Redis is down (an outage), recovers when it comes up, and keeps revocations current across a restart', async () => {
    const redis = await startRedis()
    await redis.stop()
    const r = await openStore(redis, { prefix: 'out:' })
    try {
      assert.equal(r.store.up, false)
      assert.deepEqual(r.ups, [false])
      assert.equal(r.notices.length, 1)
      assert.match(r.notices[0] ?? '', /^aauth-gateway: warn: state store redis:\/\/127\.0\.0\.1:\d+\/0 is down \(/)
      await assert.rejects(Promise.resolve(r.store.rates.hit('k', 1, 1)), StoreUnavailableError)
      await assert.rejects(Promise.resolve(r.store.revoked.has('ps j')), StoreUnavailableError, 'a stale copy cannot say "not revoked"')

      await redis.start()
      await eventually('the store is up', () => r.store.up, { timeoutMs: 5000 })
      await eventually('the revocations are loaded', () => r.store.revoked.isCurrent, { timeoutMs: 5000 })
      assert.equal((await r.store.revoked.remember('ps j', 600, 'ps')).outcome, 'added')

      await redis.stop()
      // Each connection sees the loss on its own: wait for both.
      await eventually('the store is down and the copy stale', () => !r.store.up && !r.store.revoked.isCurrent, { timeoutMs: 5000 })
      assert.equal(r.store.revoked.has('ps j'), true, 'what the copy holds is still revoked, without Redis')
      await redis.start()
      await eventually('the store is up again', () => r.store.up && r.store.revoked.isCurrent, { timeoutMs: 5000 })
      assert.equal(r.notices.filter((l) => l.includes(': warn: ')).length, 2, r.notices.join('\n'))
      assert.equal(r.notices.filter((l) => l.includes(': info: ')).length, 2, r.notices.join('\n'))
      assert.ok(r.errors.includes('rate_limit') && r.errors.includes('revocation_check'), r.errors.join(' '))
    } finally {
      await r.store.close()
      await redis.stop()
    }
  })
})

describe('the Redis state store with a password in the URL', () => {
  test('authenticates with it, refuses to count a wrong one as up, and never logs it', async () => {
    const redis = await startRedis({ password: 'p@ss word/1' })
    const good = await openStore(redis, { prefix: 'auth:' })
    const wrong = await openStore({ ...redis, url: redis.url.replace(encodeURIComponent('p@ss word/1'), 'nope') }, { prefix: 'auth:' })
    try {
      assert.equal(good.store.up, true)
      assert.deepEqual(await good.store.replay.remember('k', 10), { outcome: 'added' })
      assert.equal(wrong.store.up, false)
      await assert.rejects(Promise.resolve(wrong.store.replay.remember('k2', 10)), StoreUnavailableError)
      assert.equal(wrong.notices.length, 1)
      assert.match(wrong.notices[0] ?? '', /^aauth-gateway: warn: state store redis:\/\/127\.0\.0\.1:\d+\/0 is down \(/)
      assert.doesNotMatch(wrong.notices.join('\n'), /nope|p%40ss|p@ss/)
    } finally {
      await Promise.all([good.store.close(), wrong.store.close()])
      await redis.stop()
    }
  })
})

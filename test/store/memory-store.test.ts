import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { StoreUnavailableError } from '../../src/errors.js'
import type { FailOpenOp } from '../../src/metrics/metrics.js'
import { failOpen } from '../../src/store/fail-open.js'
import { MemoryRateCounter, MemoryStateStore } from '../../src/store/memory.js'
import type { StateStore } from '../../src/store/types.js'

describe('the memory rate counter (fixed windows)', () => {
  test('allows `limit` requests in a window that opens on the first, then refuses until it ends', () => {
    let now = 1_000
    const counter = new MemoryRateCounter(() => now)
    assert.deepEqual(counter.hit('a', 2, 10), { allowed: true, remaining: 1, resetSeconds: 10 })
    now += 4_500
    assert.deepEqual(counter.hit('a', 2, 10), { allowed: true, remaining: 0, resetSeconds: 6 })
    assert.deepEqual(counter.hit('a', 2, 10), { allowed: false, remaining: 0, resetSeconds: 6 })
    assert.deepEqual(counter.hit('b', 2, 10), { allowed: true, remaining: 1, resetSeconds: 10 }, 'each key has its own window')
    now += 5_500
    assert.deepEqual(counter.hit('a', 2, 10), { allowed: true, remaining: 1, resetSeconds: 10 }, 'a new window')
  })

  test('announces a new window as exactly its length, on a clock with fractional milliseconds', () => {
    let now = 1_000
    const counter = new MemoryRateCounter(() => now)
    for (let i = 0; i < 1000; i++) {
      now = 12_345.678 + i * 61_001.37913
      assert.equal(counter.hit('k', 1, 30).resetSeconds, 30, `at ${now}`)
    }
  })

  test('forgets ended windows', () => {
    let now = 0
    const counter = new MemoryRateCounter(() => now)
    for (let i = 0; i < 100; i++) counter.hit(`k${i}`, 1, 1)
    assert.equal(counter.size, 100)
    now += 2_000
    counter.hit('fresh', 1, 1)
    assert.equal(counter.size, 1)
  })
})

describe('store.fail_open over a store that is down', () => {
  const down: StateStore = {
    replay: { remember: () => Promise.reject(new StoreUnavailableError('down', 2)), has: () => Promise.reject(new StoreUnavailableError('down', 2)) },
    revoked: { remember: () => Promise.reject(new StoreUnavailableError('down', 2)), has: () => Promise.reject(new StoreUnavailableError('down', 2)) },
    rates: { hit: () => Promise.reject(new StoreUnavailableError('down', 2)) },
    up: false,
    close: () => Promise.resolve(),
  }

  test('passes replay, revocation lookups and rate limits, counting each; never a revocation write', async () => {
    const counted: FailOpenOp[] = []
    const store = failOpen(down, (op) => void counted.push(op))
    assert.deepEqual(await store.replay.remember('k', 1), { outcome: 'added' })
    assert.equal(await store.revoked.has('k'), false)
    assert.deepEqual(await store.rates.hit('k', 5, 60), { allowed: true, remaining: 5, resetSeconds: 60, failedOpen: true })
    await assert.rejects(Promise.resolve(store.revoked.remember('k', 1, 'g')), StoreUnavailableError)
    assert.deepEqual(counted, ['replay', 'revocation_check', 'rate_limit'])
    assert.equal(store.up, false)
  })

  test('lets other errors through, and answers of a working store unchanged', async () => {
    const broken: StateStore = { ...down, replay: { remember: () => Promise.reject(new Error('bug')), has: () => false } }
    await assert.rejects(Promise.resolve(failOpen(broken, () => undefined).replay.remember('k', 1)), /bug/)
    const memory = failOpen(new MemoryStateStore({ replayMaxEntries: 10, revocationMaxEntries: 10, revocationMaxPerIssuer: 10 }), () => assert.fail('not down'))
    assert.deepEqual(memory.replay.remember('k', 60), { outcome: 'added' })
    assert.deepEqual(memory.replay.remember('k', 60), { outcome: 'seen' })
  })
})

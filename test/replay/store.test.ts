import assert from 'node:assert/strict'
import { test } from 'node:test'
import { ExpiryHeap } from '../../src/replay/expiry-heap.js'
import { MemoryKeyStore, type Remembered } from '../../src/replay/store.js'
import { prng } from '../helpers/prng.js'

/** A store on a clock the test moves (milliseconds). */
function storeAt(options: { maxEntries: number; maxPerGroup?: number }): { store: MemoryKeyStore; advance(ms: number): void } {
  let now = 1_000_000
  const store = new MemoryKeyStore({ ...options, now: () => now })
  return { store, advance: (ms) => void (now += ms) }
}

const outcome = (r: Remembered): string => (r.outcome === 'full' ? `full:${r.bound}:${r.retryAfterSeconds}` : r.outcome)

test('remembers a key until its ttl ends, then forgets it', () => {
  const { store, advance } = storeAt({ maxEntries: 10 })
  assert.equal(outcome(store.remember('a', 10)), 'added')
  assert.equal(outcome(store.remember('a', 10)), 'seen')
  assert.equal(store.has('a'), true)
  advance(9_999)
  assert.equal(store.has('a'), true, 'still live 1 ms before expiry')
  advance(1)
  assert.equal(store.has('a'), false, 'gone at expiry')
  assert.equal(outcome(store.remember('a', 10)), 'added', 'an expired key can be recorded again')
})

test('when full of live entries it refuses the new key and forgets none of the old ones', () => {
  const { store, advance } = storeAt({ maxEntries: 3 })
  for (const k of ['a', 'b', 'c']) assert.equal(outcome(store.remember(k, 120)), 'added')
  advance(20_000)
  assert.equal(outcome(store.remember('d', 120)), 'full:store:100', 'Retry-After: until the oldest expires')
  for (const k of ['a', 'b', 'c']) {
    assert.equal(store.has(k), true, `${k} kept`)
    assert.equal(outcome(store.remember(k, 120)), 'seen', `${k} still refused as seen`)
  }
  assert.equal(store.has('d'), false)
  assert.equal(store.size, 3)
})

test('reclaims expired entries before judging the store full', () => {
  const { store, advance } = storeAt({ maxEntries: 3 })
  store.remember('a', 10)
  advance(1_000)
  store.remember('b', 10)
  store.remember('c', 10)
  advance(9_000) // a has expired, b and c have 1 s left
  assert.equal(outcome(store.remember('d', 10)), 'added')
  assert.equal(store.has('a'), false)
  assert.equal(outcome(store.remember('e', 10)), 'full:store:1')
})

test('reclaims an expired short entry even when a long-lived one was recorded before it', () => {
  // Revocations live until their token's exp, so insertion order is not expiry order.
  const { store, advance } = storeAt({ maxEntries: 2 })
  store.remember('long', 3600)
  store.remember('short', 5)
  assert.equal(outcome(store.remember('next', 60)), 'full:store:5', 'Retry-After names the soonest expiry, not the oldest entry')
  advance(5_000)
  assert.equal(outcome(store.remember('next', 60)), 'added')
  assert.equal(store.has('long'), true)
})

test('Retry-After is whole seconds, at least 1', () => {
  const { store, advance } = storeAt({ maxEntries: 1 })
  store.remember('a', 2)
  advance(1_999)
  assert.equal(outcome(store.remember('b', 2)), 'full:store:1')
  advance(1)
  assert.equal(outcome(store.remember('b', 2)), 'added')
  const { store: s2, advance: a2 } = storeAt({ maxEntries: 1 })
  s2.remember('a', 10)
  a2(500)
  assert.equal(outcome(s2.remember('b', 10)), 'full:store:10', 'rounded up')
})

test('bounds each group on its own, and the store as a whole', () => {
  const { store, advance } = storeAt({ maxEntries: 5, maxPerGroup: 2 })
  assert.equal(outcome(store.remember('ps1 a', 100, 'ps1')), 'added')
  advance(10_000)
  assert.equal(outcome(store.remember('ps1 b', 100, 'ps1')), 'added')
  assert.equal(outcome(store.remember('ps1 c', 100, 'ps1')), 'full:group:90', 'the group bound, until its soonest entry expires')
  assert.equal(outcome(store.remember('ps1 a', 100, 'ps1')), 'seen', 'an already recorded key is seen, not refused')
  assert.equal(outcome(store.remember('ps2 a', 300, 'ps2')), 'added', 'another group is unaffected')
  assert.equal(outcome(store.remember('ps2 b', 300, 'ps2')), 'added')
  assert.equal(outcome(store.remember('ps3 a', 300, 'ps3')), 'added')
  assert.equal(outcome(store.remember('ps3 b', 300, 'ps3')), 'full:store:90', 'the store bound: soonest expiry of any group')
  advance(90_000) // ps1 a expires: room in ps1 and in the store
  assert.equal(outcome(store.remember('ps3 b', 300, 'ps3')), 'added', 'reclaimed from another group when the store is full')
  assert.equal(outcome(store.remember('ps1 c', 100, 'ps1')), 'full:store:10')
  for (const k of ['ps1 b', 'ps2 a', 'ps2 b', 'ps3 a', 'ps3 b']) assert.equal(store.has(k), true, k)
})

test('a key recorded again after expiry is not dropped when its old entry is reclaimed', () => {
  const { store, advance } = storeAt({ maxEntries: 10 })
  store.remember('k', 10, 'g1')
  advance(10_000)
  assert.equal(outcome(store.remember('k', 10, 'g2')), 'added')
  store.remember('other', 10, 'g1') // reclaims g1, popping the stale entry for k
  assert.equal(store.has('k'), true)
  assert.equal(store.size, 2)
})

test('the expiry heap pops in expiry order whatever the push order', () => {
  const random = prng(9421)
  for (let round = 0; round < 50; round++) {
    const heap = new ExpiryHeap()
    const expiries = Array.from({ length: 1 + Math.floor(random() * 200) }, () => Math.floor(random() * 1000))
    expiries.forEach((e, i) => heap.push(`k${i}`, e))
    assert.equal(heap.size, expiries.length)
    const popped: number[] = []
    for (let e = heap.popExpired(Infinity); e !== undefined; e = heap.popExpired(Infinity)) popped.push(e.expiresAt)
    assert.deepEqual(popped, [...expiries].sort((a, b) => a - b))
  }
})

test('the expiry heap pops only what has expired', () => {
  const heap = new ExpiryHeap()
  heap.push('late', 20)
  heap.push('early', 10)
  assert.equal(heap.popExpired(9), undefined)
  assert.deepEqual(heap.popExpired(10), { key: 'early', expiresAt: 10 })
  assert.equal(heap.peekExpiry(), 20)
  assert.equal(heap.popExpired(19), undefined)
  assert.equal(heap.size, 1)
})

import assert from 'node:assert/strict'
import { test } from 'node:test'
import { RestartBackoff } from '../../src/cluster/backoff.js'

test('restart back-off: 100 ms doubling to 10 s while a worker keeps dying young', () => {
  const b = new RestartBackoff()
  const delays = Array.from({ length: 10 }, () => b.next(50))
  assert.deepEqual(delays, [100, 200, 400, 800, 1600, 3200, 6400, 10_000, 10_000, 10_000])
})

test('restart back-off: a worker that stayed up resets it, one that did not keeps it', () => {
  const b = new RestartBackoff({ initialMs: 100, maxMs: 10_000, stableMs: 10_000 })
  b.next(0)
  b.next(0)
  assert.equal(b.next(9_999), 400, 'not up long enough to count as healthy')
  assert.equal(b.next(10_000), 100, 'up for stableMs: back to the first delay')
  assert.equal(b.next(0), 200)
})

import assert from 'node:assert/strict'
import { Writable } from 'node:stream'
import { test } from 'node:test'
import { JsonLineLog, type DecisionEntry } from '../../src/log/decision.js'

function entry(path: string): DecisionEntry {
  return {
    time: '2026-01-01T00:00:00.000Z', route: 'data', method: 'GET', path, status: 200, decision: 'allow', reason: 'ok',
    level: 'pseudonymous', scheme: 'hwk', agent: '', delegate: '', user: 'ü-user', policy: '', rule: '', rule_at: '', mode: 'enforce', latency_ms: 1.5,
  }
}

/** A real stream that keeps every write it was given, as one string each. */
function collector(): { out: Writable; writes: string[] } {
  const writes: string[] = []
  const out = new Writable({
    write(chunk: Buffer, _encoding, done) {
      writes.push(chunk.toString('utf8'))
      done()
    },
  })
  return { out, writes }
}

test('a worker\'s lines carry its fields first, and no write exceeds maxWriteBytes or cuts a line', () => {
  const { out, writes } = collector()
  const log = new JsonLineLog(out, { fields: { worker: 4242 }, maxWriteBytes: 4096 })
  for (let i = 0; i < 200; i++) log.write(entry(`/data/${i}`))
  log.flush()
  assert.ok(writes.length > 1, 'a turn with many lines is split')
  for (const w of writes) {
    assert.ok(Buffer.byteLength(w) <= 4096, `a write of ${Buffer.byteLength(w)} bytes`)
    assert.ok(w.endsWith('\n'), 'each write ends a line')
  }
  const lines = writes.join('').trimEnd().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>)
  assert.equal(lines.length, 200)
  assert.deepEqual(Object.keys(lines[0] ?? {}).slice(0, 2), ['worker', 'time'])
  assert.deepEqual(lines.map((l) => [l.worker, l.path]), Array.from({ length: 200 }, (_, i) => [4242, `/data/${i}`]))
})

test('without options a turn\'s lines go out in one write, as they are', () => {
  const { out, writes } = collector()
  const log = new JsonLineLog(out)
  for (let i = 0; i < 50; i++) log.write(entry(`/data/${i}`))
  log.flush()
  assert.equal(writes.length, 1)
  assert.deepEqual(JSON.parse(writes[0]?.split('\n')[0] ?? ''), entry('/data/0'))
})

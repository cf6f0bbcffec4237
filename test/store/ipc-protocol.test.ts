import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { FrameReader, MAX_FRAME, Op, decodeAnswer, decodeOp, encodeAnswers, encodeOps, type StoreAnswer, type StoreOp } from '../../src/store/ipc-protocol.js'

const OPS: StoreOp[] = [
  { id: 1, op: Op.ReplayRemember, key: 'sig-ä-🔑', a: 600, b: 0, group: undefined },
  { id: 2, op: Op.RevokedRemember, key: 'https://issuer.example jti\nwith newline', a: 3600, b: 0, group: 'https://issuer.example' },
  { id: 3, op: Op.RevokedHas, key: '', a: 0, b: 0, group: undefined },
  { id: 0xffffffff, op: Op.RateHit, key: 'route 60 agent', a: 100, b: 60, group: '' },
]

const ANSWERS: [number, StoreAnswer][] = [
  [1, { ok: true, value: { outcome: 'added' } }],
  [2, { ok: true, value: { outcome: 'seen' } }],
  [3, { ok: true, value: { outcome: 'full', bound: 'group', retryAfterSeconds: 17 } }],
  [4, { ok: true, value: true }],
  [5, { ok: true, value: false }],
  [6, { ok: true, value: { allowed: false, remaining: 0, resetSeconds: 42 } }],
  [7, { ok: true, value: { allowed: true, remaining: 0, resetSeconds: 1, failedOpen: true } }],
  [8, { ok: false, error: 'disk on fire: ünïcode' }],
]

describe('store channel frames (src/store/ipc-protocol.ts)', () => {
  test('operations and answers of every kind come back as they were sent', () => {
    const bodies = new FrameReader().push(encodeOps(OPS))
    assert.deepEqual(bodies.map(decodeOp), OPS)
    const answers = new FrameReader().push(encodeAnswers(ANSWERS)).map(decodeAnswer)
    assert.deepEqual(answers, ANSWERS)
  })

  test('a stream cut at every possible byte, and byte by byte, yields the same frames', () => {
    const wire = encodeOps(OPS)
    for (let cut = 0; cut <= wire.length; cut++) {
      const reader = new FrameReader()
      const bodies = [...reader.push(wire.subarray(0, cut)), ...reader.push(wire.subarray(cut))]
      assert.deepEqual(bodies.map(decodeOp), OPS, `cut at ${cut}`)
    }
    const reader = new FrameReader()
    const bodies: Buffer[] = []
    for (let i = 0; i < wire.length; i++) bodies.push(...reader.push(wire.subarray(i, i + 1)))
    assert.deepEqual(bodies.map(decodeOp), OPS)
  })

  test('a frame length past the bound is refused, not waited for', () => {
    const bad = Buffer.alloc(8)
    bad.writeUInt32BE(MAX_FRAME + 1, 0)
    assert.throws(() => new FrameReader().push(bad), RangeError)
  })

  test('a string running past its frame is refused', () => {
    const wire = encodeOps([OPS[0] as StoreOp])
    const body = new FrameReader().push(wire)[0] as Buffer
    body.writeUInt32BE(1000, 21) // the key's length
    assert.throws(() => decodeOp(body), RangeError)
  })
})

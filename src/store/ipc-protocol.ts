import type { Remembered } from '../replay/store.js'
import type { RateDecision } from './types.js'

/**
 * The frames between a worker's `IpcStateStore` (src/store/ipc-client.ts) and the primary's
 * `serveStateStore` (src/store/ipc-server.ts), which let the memory store hold across workers
 * (docs/scaling.md "Shared state"). They travel on a channel of their own, a socket pair the
 * primary gives each worker as an extra stdio pipe, not on Node's cluster IPC channel: that one
 * serialises every message as JSON and runs every cluster message listener (Node's own,
 * prom-client's, the metrics scrape) for each, which measured as the larger part of the store's
 * cost per request (docs/scaling.md "Shared state").
 *
 * Every frame is `u32 body length` then the body, all integers big-endian. A worker writes all
 * the operations of one event-loop turn in one write; the primary answers them in one write.
 *
 * Request body: `u32 id, u8 op, f64 a, f64 b, u32 key length, key (UTF-8), i32 group length
 * (-1: none), group (UTF-8)`; `a`, `b` are the TTL (remember) or the limit and window (rates.hit).
 * Reply body: `u32 id, u8 kind`, then by kind: an error message (`u32 length, UTF-8`), nothing,
 * or the numbers of a `full` or rate answer.
 */

export const enum Op {
  ReplayRemember = 1,
  RevokedRemember = 2,
  ReplayHas = 3,
  RevokedHas = 4,
  RateHit = 5,
}

export interface StoreOp {
  readonly id: number
  readonly op: Op
  readonly key: string
  /** TTL in seconds (remember), the limit (rates.hit), else 0. */
  readonly a: number
  /** The window in seconds (rates.hit), else 0. */
  readonly b: number
  /** The group of a `remember` (revocations count per issuer), else undefined. */
  readonly group: string | undefined
}

/** What an operation answered: a value of the StateStore, or the message of the error it threw. */
export type StoreAnswer = { readonly ok: true; readonly value: Remembered | boolean | RateDecision } | { readonly ok: false; readonly error: string }

const enum Kind {
  Error = 0,
  Added = 1,
  Seen = 2,
  Full = 3,
  True = 4,
  False = 5,
  Rate = 6,
}

/** Frames larger than this are refused as corrupt: one turn's operations fit many times over. */
export const MAX_FRAME = 16 * 1024 * 1024

const ADDED: Remembered = Object.freeze({ outcome: 'added' })
const SEEN: Remembered = Object.freeze({ outcome: 'seen' })

/** All of `ops` as frames, in one buffer (one write). */
export function encodeOps(ops: readonly StoreOp[]): Buffer {
  let size = 0
  for (const o of ops) size += 4 + 4 + 1 + 8 + 8 + 4 + Buffer.byteLength(o.key) + 4 + (o.group === undefined ? 0 : Buffer.byteLength(o.group))
  const buf = Buffer.allocUnsafe(size)
  let at = 0
  for (const o of ops) {
    const start = at
    at += 4
    at = buf.writeUInt32BE(o.id, at)
    at = buf.writeUInt8(o.op, at)
    at = buf.writeDoubleBE(o.a, at)
    at = buf.writeDoubleBE(o.b, at)
    at = writeString(buf, at, o.key)
    if (o.group === undefined) at = buf.writeInt32BE(-1, at)
    else at = writeString(buf, at, o.group)
    buf.writeUInt32BE(at - start - 4, start)
  }
  return buf
}

export function decodeOp(body: Buffer): StoreOp {
  const id = body.readUInt32BE(0)
  const op = body.readUInt8(4) as Op
  const a = body.readDoubleBE(5)
  const b = body.readDoubleBE(13)
  const [key, afterKey] = readString(body, 21)
  const groupLength = body.readInt32BE(afterKey)
  const group = groupLength < 0 ? undefined : readString(body, afterKey)[0]
  return { id, op, a, b, key, group }
}

/** `answers` (with their operation ids) as frames, in one buffer. */
export function encodeAnswers(answers: readonly (readonly [number, StoreAnswer])[]): Buffer {
  const parts: Buffer[] = []
  for (const [id, answer] of answers) parts.push(encodeAnswer(id, answer))
  return parts.length === 1 ? (parts[0] as Buffer) : Buffer.concat(parts)
}

function encodeAnswer(id: number, answer: StoreAnswer): Buffer {
  if (!answer.ok) {
    const text = Buffer.from(answer.error)
    const buf = Buffer.allocUnsafe(4 + 5 + 4 + text.length)
    let at = buf.writeUInt32BE(5 + 4 + text.length, 0)
    at = buf.writeUInt32BE(id, at)
    at = buf.writeUInt8(Kind.Error, at)
    at = buf.writeUInt32BE(text.length, at)
    text.copy(buf, at)
    return buf
  }
  const v = answer.value
  if (typeof v === 'boolean') return small(id, v ? Kind.True : Kind.False)
  if ('outcome' in v) {
    if (v.outcome === 'added') return small(id, Kind.Added)
    if (v.outcome === 'seen') return small(id, Kind.Seen)
    const buf = Buffer.allocUnsafe(4 + 5 + 1 + 8)
    let at = buf.writeUInt32BE(5 + 1 + 8, 0)
    at = buf.writeUInt32BE(id, at)
    at = buf.writeUInt8(Kind.Full, at)
    at = buf.writeUInt8(v.bound === 'group' ? 1 : 0, at)
    buf.writeDoubleBE(v.retryAfterSeconds, at)
    return buf
  }
  const buf = Buffer.allocUnsafe(4 + 5 + 1 + 8 + 8)
  let at = buf.writeUInt32BE(5 + 1 + 8 + 8, 0)
  at = buf.writeUInt32BE(id, at)
  at = buf.writeUInt8(Kind.Rate, at)
  at = buf.writeUInt8((v.allowed ? 1 : 0) | (v.failedOpen ? 2 : 0), at)
  at = buf.writeDoubleBE(v.remaining, at)
  buf.writeDoubleBE(v.resetSeconds, at)
  return buf
}

function small(id: number, kind: Kind): Buffer {
  const buf = Buffer.allocUnsafe(4 + 5)
  buf.writeUInt32BE(5, 0)
  buf.writeUInt32BE(id, 4)
  buf.writeUInt8(kind, 8)
  return buf
}

export function decodeAnswer(body: Buffer): [number, StoreAnswer] {
  const id = body.readUInt32BE(0)
  const kind = body.readUInt8(4) as Kind
  switch (kind) {
    case Kind.Error:
      return [id, { ok: false, error: readString(body, 5)[0] }]
    case Kind.Added:
      return [id, { ok: true, value: ADDED }]
    case Kind.Seen:
      return [id, { ok: true, value: SEEN }]
    case Kind.Full:
      return [id, { ok: true, value: { outcome: 'full', bound: body.readUInt8(5) === 1 ? 'group' : 'store', retryAfterSeconds: body.readDoubleBE(6) } }]
    case Kind.True:
      return [id, { ok: true, value: true }]
    case Kind.False:
      return [id, { ok: true, value: false }]
    case Kind.Rate: {
      const flags = body.readUInt8(5)
      const decision: RateDecision = { allowed: (flags & 1) === 1, remaining: body.readDoubleBE(6), resetSeconds: body.readDoubleBE(14), ...(flags & 2 ? { failedOpen: true as const } : {}) }
      return [id, { ok: true, value: decision }]
    }
    default:
      throw new RangeError(`unknown answer kind ${String(kind)}`)
  }
}

function writeString(buf: Buffer, at: number, text: string): number {
  const length = buf.write(text, at + 4)
  buf.writeUInt32BE(length, at)
  return at + 4 + length
}

function readString(buf: Buffer, at: number): [string, number] {
  const length = buf.readUInt32BE(at)
  const end = at + 4 + length
  if (end > buf.length) throw new RangeError('a string runs past the end of its frame')
  return [buf.toString('utf8', at + 4, end), end]
}

/**
 * Cuts a byte stream into frame bodies: a chunk may end inside a frame (even inside its length)
 * or carry several. `push` returns the complete bodies so far; throws on a length past
 * `MAX_FRAME` (the stream is corrupt and the channel must be closed).
 */
export class FrameReader {
  private pending: Buffer | undefined

  push(chunk: Buffer): Buffer[] {
    const buf = this.pending === undefined ? chunk : Buffer.concat([this.pending, chunk])
    this.pending = undefined
    const bodies: Buffer[] = []
    let at = 0
    while (buf.length - at >= 4) {
      const length = buf.readUInt32BE(at)
      if (length > MAX_FRAME) throw new RangeError(`a frame of ${length} bytes`)
      if (buf.length - at - 4 < length) break
      bodies.push(buf.subarray(at + 4, at + 4 + length))
      at += 4 + length
    }
    // Copied: the rest of a large chunk must not keep the whole chunk alive.
    if (at < buf.length) this.pending = Buffer.from(buf.subarray(at))
    return bodies
  }
}

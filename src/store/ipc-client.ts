import { Socket } from 'node:net'
import type { Duplex } from 'node:stream'
import type { ExpiringKeyStore, RateCounter, RateDecision, Remembered, StateStore } from './types.js'
import { FrameReader, Op, decodeAnswer, encodeOps, type StoreOp } from './ipc-protocol.js'

/** The stdio slot of the store channel in a worker (src/cluster/primary.ts sets it up). */
export const STORE_CHANNEL_FD = 4

export interface IpcStateStoreOptions {
  /** The worker's end of the store channel. Default: a socket on fd `STORE_CHANNEL_FD`. */
  channel?: Duplex
  /**
   * Milliseconds an operation may wait for the primary's answer before it fails (default 1000).
   * The primary answers a batch in microseconds; only a primary that is gone or stuck is slower.
   */
  timeoutMs?: number
}

/** An operation the primary did not answer: it is gone, stuck, or its store threw. */
export class StoreUnreachableError extends Error {
  override readonly name = 'StoreUnreachableError'
}

interface Waiter {
  resolve(value: unknown): void
  reject(error: Error): void
  sentAt: number
}

/**
 * The StateStore of a cluster worker when the store is `memory` (docs/scaling.md): the replay
 * entries, revocations and rate counters live once, in the primary, so a signature replayed to
 * another worker is still a replay. Every operation asked for during one event-loop turn goes in
 * one write on the store channel (from `setImmediate`, after the turn's I/O callbacks), and the
 * primary answers the whole batch in one write: under load the round trip is shared by many
 * requests. Once the channel ends or fails, every operation fails (503 `store_unavailable`).
 */
export class IpcStateStore implements StateStore {
  readonly replay: ExpiringKeyStore
  readonly revoked: ExpiringKeyStore
  readonly rates: RateCounter

  private readonly channel: Duplex
  private readonly timeoutMs: number
  private readonly reader = new FrameReader()
  private queue: StoreOp[] = []
  /** Operations sent and not yet answered, in the order sent (so the oldest come first). */
  private readonly waiting = new Map<number, Waiter>()
  private nextId = 1
  private open = true
  private closed = false
  private readonly sweep: NodeJS.Timeout

  constructor(options: IpcStateStoreOptions = {}) {
    this.channel = options.channel ?? new Socket({ fd: STORE_CHANNEL_FD, readable: true, writable: true })
    this.timeoutMs = options.timeoutMs ?? 1000
    this.channel.on('data', this.onData)
    this.channel.on('error', this.onEnd)
    this.channel.on('close', this.onEnd)
    this.channel.on('end', this.onEnd)
    // The channel must not keep a draining worker alive.
    ;(this.channel as Partial<Socket>).unref?.()
    // One timer for all operations rather than one each: a request's cost stays one map entry.
    this.sweep = setInterval(() => this.expire(), Math.max(10, this.timeoutMs / 4)).unref()
    this.replay = this.keyStore(Op.ReplayRemember, Op.ReplayHas)
    this.revoked = this.keyStore(Op.RevokedRemember, Op.RevokedHas)
    this.rates = {
      hit: (key: string, limit: number, windowSeconds: number) => this.ask(Op.RateHit, key, limit, windowSeconds, undefined) as Promise<RateDecision>,
    }
  }

  /** Whether the primary can be asked: the channel is open and the store not closed. */
  get up(): boolean {
    return !this.closed && this.open
  }

  /** Fails what is still waiting and closes the channel. */
  async close(): Promise<void> {
    this.closed = true
    clearInterval(this.sweep)
    this.failAll('the store is closed')
    this.channel.off('data', this.onData)
    this.channel.destroy()
  }

  private keyStore(remember: Op, has: Op): ExpiringKeyStore {
    return {
      remember: (key: string, ttlSeconds: number, group?: string) => this.ask(remember, key, ttlSeconds, 0, group) as Promise<Remembered>,
      has: (key: string) => this.ask(has, key, 0, 0, undefined) as Promise<boolean>,
    }
  }

  private ask(op: Op, key: string, a: number, b: number, group: string | undefined): Promise<unknown> {
    if (!this.up) return Promise.reject(new StoreUnreachableError('the primary process is not reachable'))
    const id = this.nextId
    // Ids are u32 on the wire; wrapping is safe, an operation never waits that long.
    this.nextId = this.nextId === 0xffffffff ? 1 : this.nextId + 1
    if (this.queue.length === 0) setImmediate(this.flush)
    this.queue.push({ id, op, key, a, b, group })
    return new Promise((resolve, reject) => {
      this.waiting.set(id, { resolve, reject, sentAt: performance.now() })
    })
  }

  private readonly flush = (): void => {
    const ops = this.queue
    this.queue = []
    if (ops.length === 0) return
    if (!this.up) {
      for (const op of ops) this.settle(op.id, new StoreUnreachableError('the primary process is not reachable'))
      return
    }
    // A failed write surfaces as 'error' on the channel, which fails everything waiting.
    this.channel.write(encodeOps(ops))
  }

  private readonly onData = (chunk: Buffer): void => {
    let bodies: Buffer[]
    try {
      bodies = this.reader.push(chunk)
    } catch (err) {
      this.channel.destroy(err instanceof Error ? err : new Error(String(err)))
      return
    }
    for (const body of bodies) {
      const [id, answer] = decodeAnswer(body)
      if (answer.ok) this.settle(id, undefined, answer.value)
      else this.settle(id, new StoreUnreachableError(`the primary's store failed: ${answer.error}`))
    }
  }

  private readonly onEnd = (): void => {
    this.open = false
    this.failAll('the primary process went away')
  }

  private settle(id: number, error: Error | undefined, value?: unknown): void {
    const waiter = this.waiting.get(id)
    if (waiter === undefined) return
    this.waiting.delete(id)
    if (error) waiter.reject(error)
    else waiter.resolve(value)
  }

  private expire(): void {
    const limit = performance.now() - this.timeoutMs
    for (const [id, waiter] of this.waiting) {
      if (waiter.sentAt > limit) break
      this.settle(id, new StoreUnreachableError(`the primary did not answer within ${this.timeoutMs} ms`))
    }
  }

  private failAll(why: string): void {
    const queued = this.queue
    this.queue = []
    for (const op of queued) this.settle(op.id, new StoreUnreachableError(why))
    for (const id of [...this.waiting.keys()]) this.settle(id, new StoreUnreachableError(why))
  }
}

import type { ExpiringKeyStore, RateCounter, RateDecision, Remembered, StateStore } from './types.js'
import { STORE_REQUEST, isStoreReply, type StoreOp, type StoreReply, type StoreRequest } from './ipc-protocol.js'

/** The side of the IPC channel a worker holds: `process` in a cluster worker or a forked child. */
export interface ParentChannel {
  readonly connected: boolean
  send?(message: unknown, sendHandle: undefined, options: object, callback: (error: Error | null) => void): boolean
  on(event: 'message', listener: (message: unknown) => void): unknown
  on(event: 'disconnect', listener: () => void): unknown
  off(event: 'message', listener: (message: unknown) => void): unknown
  off(event: 'disconnect', listener: () => void): unknown
}

export interface IpcStateStoreOptions {
  /** Default `process`. */
  channel?: ParentChannel
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
 * one IPC message (sent from `setImmediate`, after the turn's I/O callbacks), and the primary
 * answers the whole batch in one message: under load the round trip is shared by many requests.
 */
export class IpcStateStore implements StateStore {
  readonly replay: ExpiringKeyStore
  readonly revoked: ExpiringKeyStore
  readonly rates: RateCounter

  private readonly channel: ParentChannel
  private readonly timeoutMs: number
  private queue: StoreOp[] = []
  /** Operations sent and not yet answered, in the order sent (so the oldest come first). */
  private readonly waiting = new Map<number, Waiter>()
  private nextId = 1
  private closed = false
  private readonly sweep: NodeJS.Timeout

  constructor(options: IpcStateStoreOptions = {}) {
    this.channel = options.channel ?? process
    this.timeoutMs = options.timeoutMs ?? 1000
    this.channel.on('message', this.onMessage)
    this.channel.on('disconnect', this.onDisconnect)
    // One timer for all operations rather than one each: a request's cost stays one map entry.
    this.sweep = setInterval(() => this.expire(), Math.max(10, this.timeoutMs / 4)).unref()
    this.replay = this.keyStore('replay')
    this.revoked = this.keyStore('revoked')
    this.rates = {
      hit: (key: string, limit: number, windowSeconds: number) =>
        this.ask((id) => [id, 'rates.hit', key, limit, windowSeconds]) as Promise<RateDecision>,
    }
  }

  /** Whether the primary can be asked: the channel is open and the store not closed. */
  get up(): boolean {
    return !this.closed && this.channel.connected
  }

  /** Fails what is still waiting and stops listening; the channel itself belongs to the process. */
  async close(): Promise<void> {
    this.closed = true
    clearInterval(this.sweep)
    this.channel.off('message', this.onMessage)
    this.channel.off('disconnect', this.onDisconnect)
    this.failAll('the store is closed')
  }

  private keyStore(name: 'replay' | 'revoked'): ExpiringKeyStore {
    return {
      remember: (key: string, ttlSeconds: number, group?: string) =>
        this.ask((id) => [id, `${name}.remember`, key, ttlSeconds, group ?? null]) as Promise<Remembered>,
      has: (key: string) => this.ask((id) => [id, `${name}.has`, key]) as Promise<boolean>,
    }
  }

  private ask(op: (id: number) => StoreOp): Promise<unknown> {
    if (!this.up) return Promise.reject(new StoreUnreachableError('the primary process is not reachable'))
    const id = this.nextId++
    if (this.queue.length === 0) setImmediate(this.flush)
    this.queue.push(op(id))
    return new Promise((resolve, reject) => {
      this.waiting.set(id, { resolve, reject, sentAt: performance.now() })
    })
  }

  private readonly flush = (): void => {
    const ops = this.queue
    this.queue = []
    if (ops.length === 0) return
    const unreachable = (why: string): void => {
      for (const op of ops) this.settle(op[0], new StoreUnreachableError(why))
    }
    if (!this.channel.connected || this.channel.send === undefined) return unreachable('the primary process is not reachable')
    const message: StoreRequest = { aauth: STORE_REQUEST, ops }
    // `false` only means Node queued the message behind others; a failed send calls back with an error.
    this.channel.send(message, undefined, {}, (error) => {
      if (error) unreachable(`cannot reach the primary: ${error.message}`)
    })
  }

  private readonly onMessage = (message: unknown): void => {
    if (!isStoreReply(message)) return
    for (const result of (message as StoreReply).results) {
      if (result[1] === 1) this.settle(result[0], undefined, result[2])
      else this.settle(result[0], new StoreUnreachableError(`the primary's store failed: ${String(result[2])}`))
    }
  }

  private readonly onDisconnect = (): void => this.failAll('the primary process went away')

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
    for (const id of [...this.waiting.keys()]) this.settle(id, new StoreUnreachableError(why))
    this.queue = []
  }
}

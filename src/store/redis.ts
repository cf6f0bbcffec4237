import type { OpsLog } from '../log/logger.js'
import type { Redis } from 'ioredis'
import { StoreUnavailableError } from '../errors.js'
import type { StoreOp } from '../metrics/metrics.js'
import type { ExpiringKeyStore, Remembered } from '../replay/store.js'
import { Outage } from './outage.js'
import { connectRedis, describeRedisUrl } from './redis-client.js'
import { KeyLayout } from './redis-keys.js'
import { RedisRevocations, type Guard, type RevocationBounds, type RevocationCommands } from './redis-revocations.js'
import { RATE_HIT, REVOCATIONS, REVOKE } from './redis-scripts.js'
import type { RateCounter, RateDecision, StateStore, ValueStore } from './types.js'


/** What the store reports, wired to metrics and stderr by the gateway. */
export interface StoreEvents {
  /** An operation failed or timed out (`aauth_gateway_store_errors_total{op}`). */
  onError(op: StoreOp): void
  /** The store went down or came back (`aauth_gateway_store_up`). */
  onUp(up: boolean): void
  /** Where the outage's two lines go (one `warn` when it starts, one `info` when it ends). */
  log: Pick<OpsLog, 'warn' | 'info'>
}

export interface RedisStoreOptions {
  /** `store.url`. */
  readonly url: string
  /** `store.key_prefix`. */
  readonly keyPrefix: string
  /** `store.timeout`, in ms. */
  readonly timeoutMs: number
  /** `signatures.revocation.*`, enforced in Redis for the whole fleet. */
  readonly revocation: RevocationBounds
  readonly events: StoreEvents
}

/** How often the health check runs (and so how soon an outage is seen to end). */
export const HEALTH_INTERVAL_MS = 500

/**
 * `Retry-After` of a 503 `store_unavailable`: a reconnect attempt (at most 0.5 s apart) and a
 * health check (every 0.5 s, then 0.5 s without failures) fit in it.
 */
export const STORE_RETRY_AFTER_SECONDS = 2

interface RateCommands {
  aauthRate(counter: string, windowMs: number): Promise<[number, number]>
}

type ScriptedRedis = Redis & RateCommands & RevocationCommands

const ADDED: Remembered = Object.freeze({ outcome: 'added' })
const SEEN: Remembered = Object.freeze({ outcome: 'seen' })

/**
 * `store.type: redis` (docs/state-store.md): replay entries, revocations and rate-limit counters
 * in one Redis shared by every instance. Two connections: one for commands (auto-pipelined),
 * one subscribed to revocations. Every operation is bounded by `store.timeout` and fails with
 * `StoreUnavailableError` (503) rather than wait; a health check every 0.5 s tells when the
 * store is back, with no restart.
 */
export class RedisStateStore implements StateStore {
  readonly replay: ExpiringKeyStore
  readonly revoked: RedisRevocations
  readonly rates: RateCounter
  readonly pending: ValueStore
  private readonly client: ScriptedRedis
  private readonly sub: Redis
  private readonly keys: KeyLayout
  private readonly outage: Outage
  private readonly timeoutMs: number
  private timer: NodeJS.Timeout | undefined
  private checking = false
  private closing = false

  constructor(private readonly options: RedisStoreOptions) {
    const { events, timeoutMs } = options
    this.timeoutMs = timeoutMs
    this.keys = new KeyLayout(options.keyPrefix)
    this.outage = new Outage(describeRedisUrl(options.url), HEALTH_INTERVAL_MS, events.log, events.onUp)
    this.client = connectRedis(options.url, timeoutMs) as ScriptedRedis
    this.client.defineCommand('aauthRate', { numberOfKeys: 1, lua: RATE_HIT })
    this.client.defineCommand('aauthRevoke', { numberOfKeys: 3, lua: REVOKE })
    this.client.defineCommand('aauthRevocations', { numberOfKeys: 1, lua: REVOCATIONS })
    this.sub = connectRedis(options.url, timeoutMs)
    // A dropped connection starts an outage at once, even with no request in flight.
    this.client.on('error', (err: Error) => this.lost(err.message, false))
    this.client.on('close', () => this.lost('connection closed', false))
    this.sub.on('error', () => undefined)
    const guard: Guard = (op, operation) => this.guard(op, operation)
    this.revoked = new RedisRevocations(this.client, this.sub, this.keys, guard, options.revocation, timeoutMs)
    this.replay = {
      remember: (key, ttlSeconds) =>
        guard('replay', this.client.set(this.keys.replay(key), '1', 'EX', Math.max(1, ttlSeconds), 'NX')).then((r) => (r === 'OK' ? ADDED : SEEN)),
      has: (key) => guard('replay', this.client.exists(this.keys.replay(key))).then((n) => n === 1),
    }
    this.rates = {
      hit: (key, limit, windowSeconds) =>
        guard('rate_limit', this.client.aauthRate(this.keys.rate(key), windowSeconds * 1000)).then(([count, msLeft]) => decision(count, limit, msLeft)),
    }
    this.pending = {
      put: (key, value, ttlSeconds) => guard('pending', this.client.set(this.keys.pending(key), value, 'EX', Math.max(1, Math.ceil(ttlSeconds)))).then(() => undefined),
      get: (key) => guard('pending', this.client.get(this.keys.pending(key))).then((v) => v ?? undefined),
    }
  }

  get up(): boolean {
    return this.outage.up
  }

  /**
   * Connects both connections (waiting at most the connect timeout), runs the first health check
   * and revocation load, then checks every `HEALTH_INTERVAL_MS`. Resolves either way: a store
   * that is down at start is an outage like any other (logged, 503s, `/readyz` 503) that ends
   * on its own when Redis answers.
   */
  async start(): Promise<void> {
    await Promise.all([this.client.connect().catch(() => undefined), this.sub.connect().catch(() => undefined)])
    await this.check()
    this.timer = setInterval(() => void this.check(), HEALTH_INTERVAL_MS)
    this.timer.unref()
  }

  /** Drops both connections at once; an operation still in flight fails (the gateway has stopped serving). */
  close(): Promise<void> {
    this.closing = true
    clearInterval(this.timer)
    this.client.disconnect()
    this.sub.disconnect()
    return Promise.resolve()
  }

  /** One health check: a write with a TTL (so a Redis refusing writes, e.g. out of memory, is down too). */
  private async check(): Promise<void> {
    if (this.checking || this.closing) return
    this.checking = true
    try {
      await this.guard('health', this.client.set(this.keys.health, '1', 'PX', 10_000))
      this.outage.healthy()
      if (this.revoked.isCurrent) await this.revoked.probe()
      else await this.revoked.refresh()
    } catch {
      // Counted and logged by the guard.
    } finally {
      this.checking = false
    }
  }

  private lost(reason: string, operation = true): void {
    if (!this.closing) this.outage.failed(reason, operation)
  }

  private guard<T>(op: StoreOp, operation: Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      let settled = false
      const fail = (reason: string): void => {
        if (settled) return
        settled = true
        clearTimeout(timer)
        this.options.events.onError(op)
        this.lost(reason)
        reject(new StoreUnavailableError('the state store cannot be reached or did not answer in time; retry later', STORE_RETRY_AFTER_SECONDS))
      }
      const timer = setTimeout(() => fail(`no answer within ${this.timeoutMs} ms`), this.timeoutMs)
      operation.then(
        (value) => {
          if (settled) return
          settled = true
          clearTimeout(timer)
          resolve(value)
        },
        (err: unknown) => fail(err instanceof Error ? err.message : String(err)),
      )
    })
  }
}

function decision(count: number, limit: number, msLeft: number): RateDecision {
  return {
    allowed: count <= limit,
    remaining: Math.max(0, limit - count),
    resetSeconds: Math.max(1, Math.ceil(msLeft / 1000)),
  }
}

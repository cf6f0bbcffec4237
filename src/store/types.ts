import type { ExpiringKeyStore } from '../replay/store.js'

export type { ExpiringKeyStore, Remembered } from '../replay/store.js'

/** One rate-limit decision (a fixed window per key, docs/state-store.md "Rate limits"). */
export interface RateDecision {
  readonly allowed: boolean
  /** Requests left in the current window after this one (0 when refused). */
  readonly remaining: number
  /** Whole seconds until the current window ends (at least 1). */
  readonly resetSeconds: number
  /**
   * The store was down and `store.fail_open` let the request through uncounted: `remaining`
   * and `resetSeconds` are not known, so no `RateLimit` field is sent.
   */
  readonly failedOpen?: true
}

/** Values that expire: what a pending deferred request and its retained result need. */
export interface ValueStore {
  put(key: string, value: string, ttlSeconds: number): void | Promise<void>
  /** The value, or `undefined` when there is none or it expired. */
  get(key: string): string | undefined | Promise<string | undefined>
}

/** Counts requests per key in fixed windows; atomic, so concurrent callers never over-admit. */
export interface RateCounter {
  hit(key: string, limit: number, windowSeconds: number): RateDecision | Promise<RateDecision>
}

/**
 * Everything the gateway must share between workers and instances (docs/state-store.md): the
 * replay entries, the revocations and the rate-limit counters. `memory` keeps them in the
 * process (or, with several workers, in the primary); `redis` in a Redis-protocol server.
 */
export interface StateStore {
  readonly replay: ExpiringKeyStore
  readonly revoked: ExpiringKeyStore
  readonly rates: RateCounter
  /**
   * Pending deferred requests (AAuth -11 §6.5.1, src/resource/deferred.ts), where the store
   * can hold values: memory and Redis. Absent (the worker IPC client), the gateway answers
   * with the `401` form instead of `202`.
   */
  readonly pending?: ValueStore
  /**
   * False while the store cannot be reached (`/readyz` answers 503, `aauth_gateway_store_up` 0).
   * An operation on a store that is down throws `StoreUnavailableError` (503 `store_unavailable`).
   */
  readonly up: boolean
  /** Entries held in this process, by store, for `aauth_gateway_store_entries{store}`. */
  sizes?(): Readonly<Record<string, number>>
  close(): Promise<void>
}

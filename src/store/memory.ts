import { MemoryKeyStore } from '../replay/store.js'
import type { RateCounter, RateDecision, StateStore, ValueStore } from './types.js'

/** Bounds of the in-memory store, from `signatures.replay` and `signatures.revocation`. */
export interface MemoryStoreBounds {
  readonly replayMaxEntries: number
  readonly revocationMaxEntries: number
  readonly revocationMaxPerIssuer: number
}

/**
 * `store.type: memory`: everything in this process (docs/state-store.md). Never down, so it
 * never answers `store_unavailable`; nothing is shared with another instance.
 */
export class MemoryStateStore implements StateStore {
  readonly replay: MemoryKeyStore
  readonly revoked: MemoryKeyStore
  readonly rates = new MemoryRateCounter()
  readonly pending: MemoryValueStore
  readonly up = true

  constructor(bounds: MemoryStoreBounds) {
    // Pending requests are made only for verified person or auth tokens; bounded as replay is.
    this.pending = new MemoryValueStore(bounds.replayMaxEntries)
    this.replay = new MemoryKeyStore({ maxEntries: bounds.replayMaxEntries })
    this.revoked = new MemoryKeyStore({ maxEntries: bounds.revocationMaxEntries, maxPerGroup: bounds.revocationMaxPerIssuer })
  }

  sizes(): Readonly<Record<string, number>> {
    return { replay: this.replay.size, revocation: this.revoked.size, rate_limit: this.rates.size, pending: this.pending.size }
  }

  close(): Promise<void> {
    return Promise.resolve()
  }
}

interface Window {
  count: number
  /** When this window ends, in ms on `now`'s clock. */
  endsAt: number
}

/**
 * Fixed windows per key: the first request for a key opens a window of `windowSeconds`, and at
 * most `limit` requests are allowed in it. The same rule as the Redis script (INCR, and PEXPIRE
 * on the first), so the two stores answer alike. Ended windows are swept at most once per
 * second, so a key that stops sending costs nothing after its window.
 */
export class MemoryRateCounter implements RateCounter {
  private readonly windows = new Map<string, Window>()
  private nextSweep = 0

  /** Milliseconds on a monotonic clock; injected by tests of expiry. */
  constructor(private readonly now: () => number = () => performance.now()) {}

  hit(key: string, limit: number, windowSeconds: number): RateDecision {
    // Whole milliseconds: with fractional ones, (now + 30000) - now can come out a hair above
    // 30000, and the window would be announced as 31 s.
    const now = Math.floor(this.now())
    if (now >= this.nextSweep) this.sweep(now)
    let w = this.windows.get(key)
    if (w === undefined || w.endsAt <= now) {
      w = { count: 0, endsAt: now + windowSeconds * 1000 }
      this.windows.set(key, w)
    }
    w.count++
    return {
      allowed: w.count <= limit,
      remaining: Math.max(0, limit - w.count),
      resetSeconds: Math.max(1, Math.ceil((w.endsAt - now) / 1000)),
    }
  }

  /** Windows currently held (ended ones included until the next sweep). */
  get size(): number {
    return this.windows.size
  }

  private sweep(now: number): void {
    for (const [key, w] of this.windows) if (w.endsAt <= now) this.windows.delete(key)
    this.nextSweep = now + 1000
  }
}

/**
 * Values with a lifetime, at most `maxEntries` of them: when full, expired values are swept and,
 * if none were, the value is not kept (a pending request then simply cannot be resumed, and
 * its agent retries the call, as after a `401`). Never evicts a live value.
 */
export class MemoryValueStore implements ValueStore {
  private readonly values = new Map<string, { value: string; expiresAt: number }>()

  constructor(
    private readonly maxEntries: number,
    /** Milliseconds on a monotonic clock; injected by tests of expiry. */
    private readonly now: () => number = () => performance.now(),
  ) {}

  put(key: string, value: string, ttlSeconds: number): void {
    const now = this.now()
    if (!this.values.has(key) && this.values.size >= this.maxEntries) {
      for (const [k, v] of this.values) if (v.expiresAt <= now) this.values.delete(k)
      if (this.values.size >= this.maxEntries) return
    }
    this.values.set(key, { value, expiresAt: now + ttlSeconds * 1000 })
  }

  get(key: string): string | undefined {
    const entry = this.values.get(key)
    if (entry === undefined) return undefined
    if (entry.expiresAt > this.now()) return entry.value
    this.values.delete(key)
    return undefined
  }

  get size(): number {
    return this.values.size
  }
}

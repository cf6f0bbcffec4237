import { createHash } from 'node:crypto'
import { ExpiryHeap } from './expiry-heap.js'

/**
 * What `remember` did. `full` means the key was NOT recorded because every slot holds an entry
 * that has not expired yet: the store never evicts a live entry to make room, since a forgotten
 * replay entry could be replayed inside the signature window and a forgotten revocation would
 * let a revoked token back in. `bound` says which limit was hit (the whole store, or the key's
 * group: one issuer's revocations); `retryAfterSeconds` is when the soonest entry under that
 * bound expires (at least 1), for `Retry-After`.
 */
export type Remembered =
  | { readonly outcome: 'added' }
  | { readonly outcome: 'seen' }
  | { readonly outcome: 'full'; readonly bound: 'store' | 'group'; readonly retryAfterSeconds: number }

/**
 * A set of keys that expire: what the replay defence (signatures seen within the window) and
 * token revocation (`(iss, jti)` until the token's `exp`) both need. Behind an interface so a
 * shared store (Redis) can replace the in-memory one for a fleet of gateways; hence the
 * promise-or-value results.
 */
export interface ExpiringKeyStore {
  /**
   * Records `key` for `ttlSeconds`, counted against `group`'s own bound as well as the store's
   * (revocations are bounded per issuer; replay uses no group). `seen` when the key is already
   * recorded and has not expired (for replay: the request is a replay).
   */
  remember(key: string, ttlSeconds: number, group?: string): Remembered | Promise<Remembered>
  /** Whether `key` is recorded and not expired. */
  has(key: string): boolean | Promise<boolean>
  close?(): Promise<void>
}

/**
 * The key thumbprint and a SHA-256 of the verified signature base. The spec's suggested tuple
 * (thumbprint, created, @method, @authority, @path) is all inside the base, which also holds
 * every other covered component: two requests that differ only in a covered `content-digest`
 * or `@query` (a person server revoking two tokens in the same second) are not replays of each
 * other, while the same signed message is one however its signature bytes or label are dressed.
 */
export function replayKey(thumbprint: string, signatureBase: string): string {
  return `${thumbprint} ${createHash('sha256').update(signatureBase).digest('base64url')}`
}

export interface MemoryKeyStoreOptions {
  /** Most live entries in the store (`signatures.replay.max_entries`, `signatures.revocation.max_entries`). */
  maxEntries: number
  /** Most live entries per group (`signatures.revocation.max_per_issuer`); unbounded when unset. */
  maxPerGroup?: number
  /** Milliseconds on a monotonic clock; injected by tests of expiry. */
  now?: () => number
}

const ADDED: Remembered = Object.freeze({ outcome: 'added' })
const SEEN: Remembered = Object.freeze({ outcome: 'seen' })

/**
 * A bounded in-memory store that never forgets a live entry (see `Remembered`). Each group keeps
 * its entries in an `ExpiryHeap`, so expired entries are reclaimed from the top, soonest first,
 * before a bound is judged full. Sized by operators above (peak signed requests per second x 2 x
 * window) for replay; see docs/replay-and-revocation.md.
 */
export class MemoryKeyStore implements ExpiringKeyStore {
  /** key -> expiry (ms on `now`'s clock). */
  private readonly entries = new Map<string, number>()
  /** group -> its entries by expiry; a group is dropped when it empties. */
  private readonly groups = new Map<string, ExpiryHeap>()
  /** Entries in all heaps (a few may be expired until their group is next reclaimed). */
  private count = 0
  private readonly maxEntries: number
  private readonly maxPerGroup: number
  private readonly now: () => number

  constructor(options: MemoryKeyStoreOptions) {
    this.maxEntries = options.maxEntries
    this.maxPerGroup = options.maxPerGroup ?? Number.POSITIVE_INFINITY
    // Monotonic: a wall-clock step back must not keep entries alive longer, nor forward expire them early.
    this.now = options.now ?? (() => performance.now())
  }

  /** Live and not-yet-reclaimed entries. */
  get size(): number {
    return this.count
  }

  remember(key: string, ttlSeconds: number, group = ''): Remembered {
    const now = this.now()
    let heap = this.reclaim(group, now)
    const expiresAt = this.entries.get(key)
    if (expiresAt !== undefined && expiresAt > now) return SEEN
    if (heap !== undefined && heap.size >= this.maxPerGroup) return full('group', heap.peekExpiry(), now)
    if (this.count >= this.maxEntries) {
      for (const g of [...this.groups.keys()]) this.reclaim(g, now)
      if (this.count >= this.maxEntries) return full('store', this.soonestExpiry(), now)
      heap = this.groups.get(group)
    }
    if (heap === undefined) {
      heap = new ExpiryHeap()
      this.groups.set(group, heap)
    }
    const expiry = now + Math.max(1, ttlSeconds) * 1000
    heap.push(key, expiry)
    this.entries.set(key, expiry)
    this.count++
    return ADDED
  }

  has(key: string): boolean {
    const expiresAt = this.entries.get(key)
    return expiresAt !== undefined && expiresAt > this.now()
  }

  /** Pops `group`'s expired entries; returns its heap, or undefined when it is (now) empty. */
  private reclaim(group: string, now: number): ExpiryHeap | undefined {
    const heap = this.groups.get(group)
    if (heap === undefined) return undefined
    for (let e = heap.popExpired(now); e !== undefined; e = heap.popExpired(now)) {
      this.count--
      // A key recorded again after it expired has a newer expiry: leave that one.
      if (this.entries.get(e.key) === e.expiresAt) this.entries.delete(e.key)
    }
    if (heap.size > 0) return heap
    this.groups.delete(group)
    return undefined
  }

  private soonestExpiry(): number | undefined {
    let soonest: number | undefined
    for (const heap of this.groups.values()) {
      const e = heap.peekExpiry()
      if (e !== undefined && (soonest === undefined || e < soonest)) soonest = e
    }
    return soonest
  }
}

function full(bound: 'store' | 'group', soonest: number | undefined, now: number): Remembered {
  const retryAfterSeconds = Math.max(1, Math.ceil(((soonest ?? now) - now) / 1000))
  return { outcome: 'full', bound, retryAfterSeconds }
}

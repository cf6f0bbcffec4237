import type { Redis } from 'ioredis'
import type { ExpiringKeyStore, Remembered } from '../replay/store.js'
import type { KeyLayout } from './redis-keys.js'
import type { StoreOp } from '../metrics/metrics.js'


/** Runs one store operation within `store.timeout`, or throws `StoreUnavailableError`. */
export type Guard = <T>(op: StoreOp, operation: Promise<T>) => Promise<T>

/** The scripted commands this class sends (defined on the connection by `RedisStateStore`). */
export interface RevocationCommands {
  aauthRevoke(revoked: string, index: string, issuerIndex: string, member: string, ttlMs: number, maxEntries: number, maxPerIssuer: number, channel: string): Promise<[string, number?]>
  aauthRevocations(index: string): Promise<(string | number)[]>
}

export interface RevocationBounds {
  readonly maxEntries: number
  readonly maxPerIssuer: number
}

const ADDED: Remembered = Object.freeze({ outcome: 'added' })
const SEEN: Remembered = Object.freeze({ outcome: 'seen' })

/**
 * Revocations shared through Redis, read from a local copy (docs/state-store.md
 * "Revocations"). A revocation is written once, by a script that also enforces the bounds and
 * publishes it; every instance subscribes to that channel and adds what it hears to its copy,
 * so `has()` costs no round trip. The copy is only trusted while it is known to be complete:
 * after the subscription is confirmed, every live revocation is loaded once (what was published
 * before or during the load is in the load or in the channel; both only add). When the
 * subscriber connection drops, the copy is stale until that happens again, and meanwhile a
 * lookup the copy cannot answer asks Redis (`EXISTS`).
 */
export class RedisRevocations implements ExpiringKeyStore {
  /** key -> expiry in ms on `performance.now()`'s clock. */
  private readonly copy = new Map<string, number>()
  private current = false
  /** Bumped when the subscriber connection closes: a load started before it cannot make the copy current. */
  private generation = 0
  private refreshing: Promise<void> | undefined
  private nextSweep = 0

  constructor(
    private readonly client: Redis & RevocationCommands,
    private readonly sub: Redis,
    private readonly keys: KeyLayout,
    private readonly guard: Guard,
    private readonly bounds: RevocationBounds,
    private readonly timeoutMs: number,
  ) {
    sub.on('message', (channel: string, message: string) => {
      if (channel === keys.channel) this.heard(message)
    })
    sub.on('close', () => this.stale())
    sub.on('ready', () => void this.refresh())
  }

  /** Whether the local copy holds every live revocation (then `has()` answers locally). */
  get isCurrent(): boolean {
    return this.current
  }

  async remember(key: string, ttlSeconds: number, group = ''): Promise<Remembered> {
    const ttlMs = Math.max(1, ttlSeconds) * 1000
    const [outcome, msLeft] = await this.guard(
      'revoke',
      this.client.aauthRevoke(
        this.keys.revoked(key),
        this.keys.revocationIndex,
        this.keys.issuerRevocations(group),
        key,
        ttlMs,
        this.bounds.maxEntries,
        this.bounds.maxPerIssuer,
        this.keys.channel,
      ),
    )
    if (outcome === 'group' || outcome === 'store') {
      return { outcome: 'full', bound: outcome, retryAfterSeconds: Math.max(1, Math.ceil((msLeft ?? 0) / 1000)) }
    }
    // This instance need not wait for its own message to see what it just recorded.
    if (outcome === 'added') this.add(key, ttlMs)
    return outcome === 'added' ? ADDED : SEEN
  }

  has(key: string): boolean | Promise<boolean> {
    const now = performance.now()
    if (now >= this.nextSweep) this.sweep(now)
    const expiry = this.copy.get(key)
    // An entry never leaves before its expiry, so a stale copy's "revoked" is still right.
    if (expiry !== undefined && expiry > now) return true
    if (this.current) return false
    return this.guard('revocation_check', this.client.exists(this.keys.revoked(key))).then((n) => n === 1)
  }

  /**
   * Makes the copy current: subscribes (again), then loads every live revocation. One at a time;
   * called when the subscriber connects and by the store's health check while the copy is stale.
   * Failures leave the copy stale (and are counted by the guard); the next check tries again.
   */
  refresh(): Promise<void> {
    if (this.current || this.sub.status !== 'ready') return Promise.resolve()
    this.refreshing ??= this.load().finally(() => {
      this.refreshing = undefined
    })
    return this.refreshing
  }

  /**
   * Checks the subscriber connection the way the store's health check checks the other: a
   * connection that does not answer a PING in time is dropped (and reconnected by ioredis), so
   * a half-open connection cannot keep a copy that no longer hears anything "current".
   */
  async probe(): Promise<void> {
    if (!this.current) return
    let timer: NodeJS.Timeout | undefined
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error('no PING answer')), this.timeoutMs)
    })
    try {
      await Promise.race([this.sub.ping(), late])
    } catch {
      this.stale()
      this.sub.disconnect(true)
    } finally {
      clearTimeout(timer)
    }
  }

  /** Live revocations in the local copy (expired ones included until the next sweep). */
  get size(): number {
    return this.copy.size
  }

  private async load(): Promise<void> {
    const generation = this.generation
    try {
      await this.guard('revocation_sync', this.sub.subscribe(this.keys.channel))
      const all = await this.guard('revocation_sync', this.client.aauthRevocations(this.keys.revocationIndex))
      for (let i = 0; i + 1 < all.length; i += 2) this.add(String(all[i]), Number(all[i + 1]))
      if (generation === this.generation && this.sub.status === 'ready') this.current = true
    } catch {
      // Counted by the guard; the copy stays stale and lookups ask Redis until the next try.
    }
  }

  private stale(): void {
    this.generation++
    this.current = false
  }

  /** A published revocation: "<ms left> <key>". */
  private heard(message: string): void {
    const space = message.indexOf(' ')
    const ms = Number(message.slice(0, space))
    if (space > 0 && Number.isFinite(ms)) this.add(message.slice(space + 1), ms)
  }

  private add(key: string, msLeft: number): void {
    const expiry = performance.now() + msLeft
    const known = this.copy.get(key)
    if (known === undefined || known < expiry) this.copy.set(key, expiry)
  }

  /** Drops expired entries, at most every 10 s (the copy holds at most the store's bound). */
  private sweep(now: number): void {
    for (const [key, expiry] of this.copy) if (expiry <= now) this.copy.delete(key)
    this.nextSweep = now + 10_000
  }
}

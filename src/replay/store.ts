import { LRUCache } from 'lru-cache'

/**
 * Remembers signatures seen within the freshness window (AAuth -11 "Freshness and Replay").
 * Behind an interface so a shared store (Redis) can replace the in-memory one for a fleet.
 */
export interface ReplayStore {
  /**
   * Records `key` for `ttlSeconds`. Resolves false when the key was already recorded and has
   * not expired: the request is a replay.
   */
  remember(key: string, ttlSeconds: number): boolean | Promise<boolean>
  close?(): Promise<void>
}

/** The spec's suggested tuple: (key thumbprint, created, @method, @authority, @path). */
export function replayKey(thumbprint: string, created: number, method: string, authority: string, path: string): string {
  return `${thumbprint} ${created} ${method} ${authority} ${path}`
}

/**
 * A bounded in-memory store. When full, the least recently used entries go first; an evicted
 * entry can only be replayed if its `created` is still inside the window, so size the bound
 * above (requests per second x 2 x window).
 */
export class MemoryReplayStore implements ReplayStore {
  private readonly seen: LRUCache<string, true>

  constructor(maxEntries: number) {
    this.seen = new LRUCache<string, true>({ max: maxEntries, ttlAutopurge: false })
  }

  remember(key: string, ttlSeconds: number): boolean {
    if (this.seen.has(key)) return false
    this.seen.set(key, true, { ttl: ttlSeconds * 1000 })
    return true
  }
}

import { LRUCache } from 'lru-cache'

/**
 * A set of keys that expire: what the replay defence (signatures seen within the window) and
 * token revocation (`(iss, jti)` until the token's `exp`) both need. Behind an interface so a
 * shared store (Redis) can replace the in-memory one for a fleet of gateways.
 */
export interface ExpiringKeyStore {
  /**
   * Records `key` for `ttlSeconds`. Resolves false when the key was already recorded and has
   * not expired (for replay: the request is a replay).
   */
  remember(key: string, ttlSeconds: number): boolean | Promise<boolean>
  /** Whether `key` is recorded and not expired. */
  has(key: string): boolean | Promise<boolean>
  close?(): Promise<void>
}

/** The spec's suggested tuple: (key thumbprint, created, @method, @authority, @path). */
export function replayKey(thumbprint: string, created: number, method: string, authority: string, path: string): string {
  return `${thumbprint} ${created} ${method} ${authority} ${path}`
}

/**
 * A bounded in-memory store. When full, the least recently used entries go first. For replay,
 * an evicted entry can be replayed while its `created` is still inside the window, so size the
 * bound above (requests per second x 2 x window); `signatures.replay.max_entries`.
 */
export class MemoryKeyStore implements ExpiringKeyStore {
  private readonly keys: LRUCache<string, true>

  constructor(maxEntries: number) {
    this.keys = new LRUCache<string, true>({ max: maxEntries })
  }

  remember(key: string, ttlSeconds: number): boolean {
    if (this.keys.has(key)) return false
    this.keys.set(key, true, { ttl: Math.max(1, ttlSeconds) * 1000 })
    return true
  }

  has(key: string): boolean {
    return this.keys.has(key)
  }
}

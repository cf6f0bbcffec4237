import { createHash } from 'node:crypto'
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

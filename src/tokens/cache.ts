import { createHash } from 'node:crypto'
import { LRUCache } from 'lru-cache'
import type { ResourceConfigView } from '../config/view.js'
import type { ResolveContext, ResolvedKey, VerifiedTokenCacheLike } from '../keys/types.js'

export interface VerifiedTokenCacheOptions {
  /** Tokens remembered. Default 10 000; least recently used dropped beyond it. */
  maxEntries?: number
  /** Told of every lookup (`aauth_gateway_token_cache_total`): `miss` includes an entry dropped as expired or stale. */
  onLookup?: (result: 'hit' | 'miss') => void
}

interface Entry {
  result: ResolvedKey
  /** The token's `exp`, seconds since the epoch. */
  exp: number
  /** The snapshot it was verified under: trust lists and rules may change on reload. */
  config: ResourceConfigView
}

/**
 * Verified tokens, so the hot path verifies a JWT once per token rather than once per request.
 * Keyed by the SHA-256 of the token (the token itself is not kept). An entry serves only under
 * the config snapshot that verified it, and only while `now < exp` (checked on every use, zero
 * tolerance); otherwise it is dropped and the caller verifies afresh. The request signature is
 * still checked per request with the cached `cnf.jwk`.
 */
export class VerifiedTokenCache implements VerifiedTokenCacheLike {
  readonly #entries: LRUCache<string, Entry>
  readonly #onLookup: ((result: 'hit' | 'miss') => void) | undefined

  constructor(options: VerifiedTokenCacheOptions = {}) {
    this.#entries = new LRUCache({ max: options.maxEntries ?? 10_000 })
    this.#onLookup = options.onLookup
  }

  get(token: string, ctx: ResolveContext): ResolvedKey | undefined {
    const found = this.#find(token, ctx)
    this.#onLookup?.(found === undefined ? 'miss' : 'hit')
    return found
  }

  #find(token: string, ctx: ResolveContext): ResolvedKey | undefined {
    const id = digest(token)
    const entry = this.#entries.get(id)
    if (entry === undefined) return undefined
    if (entry.config !== ctx.config || ctx.now() >= entry.exp) {
      this.#entries.delete(id)
      return undefined
    }
    return entry.result
  }

  set(token: string, result: ResolvedKey, exp: number, ctx: ResolveContext): void {
    this.#entries.set(digest(token), { result, exp, config: ctx.config })
  }

  get size(): number {
    return this.#entries.size
  }
}

function digest(token: string): string {
  return createHash('sha256').update(token).digest('base64url')
}

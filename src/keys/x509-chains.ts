import { LRUCache } from 'lru-cache'
import { guardedFetch } from './fetch.js'
import type { FetchPolicy } from './types.js'

interface ChainFetch {
  readonly url: string
  readonly policy: FetchPolicy
}

/**
 * PEM chains fetched from `x5u` (Signature-Key -09 §3.10), kept for `ttlSeconds` so an agent's
 * requests do not each fetch its chain. Keyed by `x5t` and `x5u` together: a new end-entity
 * certificate at the same URL is a new entry, fetched at once. Concurrent misses share one fetch
 * (`lru-cache`'s `fetch()`); a failed fetch is not kept. The chain is still validated on every
 * request (validity at the request's clock, path to an anchor): only the bytes are cached.
 */
export class X509ChainCache {
  readonly #chains: LRUCache<string, Buffer, ChainFetch>

  constructor({ maxEntries = 1_000, ttlSeconds = 300 }: { maxEntries?: number; ttlSeconds?: number } = {}) {
    this.#chains = new LRUCache<string, Buffer, ChainFetch>({
      max: maxEntries,
      ttl: ttlSeconds * 1000,
      fetchMethod: async (_key, _stale, { context }) => {
        const response = await guardedFetch(context.url, { trusted: true, policy: context.policy, raw: true })
        return response.bytes ?? Buffer.alloc(0)
      },
    })
  }

  get size(): number {
    return this.#chains.size
  }

  /** The chain's bytes, from the cache or fetched under `policy`; rejects with the fetch's error. */
  async get(x5u: string, x5t: string, policy: FetchPolicy): Promise<Buffer> {
    const bytes = await this.#chains.fetch(`${x5t} ${x5u}`, { context: { url: x5u, policy } })
    return bytes ?? Buffer.alloc(0)
  }
}

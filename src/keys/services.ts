import { VerifiedTokenCache } from '../tokens/cache.js'
import { Discovery } from './discovery.js'
import type { KeyDocumentCacheOptions } from './key-document-cache.js'
import { KeyImporter } from './jwk.js'
import type { KeyServices } from './types.js'
import { X509ChainCache } from './x509-chains.js'

export interface KeyServicesOptions extends KeyDocumentCacheOptions {
  /** Imported public keys kept (default 10 000). */
  maxKeys?: number
  /** Verified tokens kept (default 10 000). */
  maxTokens?: number
  /** Told of every verified-token cache lookup (`aauth_gateway_token_cache_total`). */
  onTokenLookup?: (result: 'hit' | 'miss') => void
}

/**
 * The long-lived key services: build once per process and put in every `ResolveContext`; they
 * survive config reloads. Pass `observer` (`onFetch`, `onCache`) to count fetches and key-cache
 * results (docs/metrics.md), and `fetch`/`now` to test. Every cache is bounded.
 */
export function createKeyServices(options: KeyServicesOptions = {}): KeyServices {
  const keySource = new Discovery(options)
  const importer = new KeyImporter({ maxEntries: options.maxKeys })
  const tokens = new VerifiedTokenCache({ maxEntries: options.maxTokens, onLookup: options.onTokenLookup })
  const x509Chains = new X509ChainCache()
  return Object.freeze({
    keySource,
    importer,
    tokens,
    x509Chains,
    cacheSizes: () => ({ ...keySource.sizes(), keys: importer.size, tokens: tokens.size, x509_chains: x509Chains.size }),
  })
}

import { VerifiedTokenCache } from '../tokens/cache.js'
import { Discovery } from './discovery.js'
import type { JwksCacheOptions } from './jwks-cache.js'
import { KeyImporter } from './jwk.js'
import type { KeyServices } from './types.js'

export interface KeyServicesOptions extends JwksCacheOptions {
  /** Imported public keys kept (default 10 000). */
  maxKeys?: number
  /** Verified tokens kept (default 10 000). */
  maxTokens?: number
}

/**
 * The long-lived key services: build once per process and put in every `ResolveContext`; they
 * survive config reloads. Pass `observer` (`onFetch`, `onCache`) to count fetches and key-cache
 * results (CONTRACT §8), and `fetch`/`now` to test. Every cache is bounded.
 */
export function createKeyServices(options: KeyServicesOptions = {}): KeyServices {
  return Object.freeze({
    keySource: new Discovery(options),
    importer: new KeyImporter({ maxEntries: options.maxKeys }),
    tokens: new VerifiedTokenCache({ maxEntries: options.maxTokens }),
  })
}

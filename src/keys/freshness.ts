import CachePolicy from 'http-cache-semantics'
import type { FetchResponse } from './fetch.js'

/** Clamps on a document's lifetime, in milliseconds (see `KeyDocumentCacheOptions`). */
export interface LifetimeBounds {
  /** When the response says nothing about freshness. */
  default: number
  min: number
  max: number
}

/**
 * Milliseconds a fetched document may be used (Signature-Key §7.3; RFC 9111 §4.2.1): what
 * `http-cache-semantics` reads from `Cache-Control` (`max-age`, `no-cache`, `no-store`) and
 * `Expires` against `Date`, from the perspective of a private cache (the gateway is the only
 * reader). `bounds.default` when the response has no freshness information at all; always
 * within `bounds.min`..`bounds.max`, so `no-cache` still caches for the floor (the document is
 * re-asked at most once per floor, not on every request).
 */
export function documentLifetime(headers: FetchResponse['headers'], fetchedAt: number, bounds: LifetimeBounds): number {
  const policy = new CachePolicy(
    { url: '/', method: 'GET', headers: {} },
    {
      status: 200,
      headers: {
        // Directive names are case-insensitive (RFC 9111 §5.2); the library matches them as written.
        'cache-control': headers.cacheControl?.toLowerCase(),
        expires: headers.expires,
        // The injected clock stands in for a missing `Date`, so `Expires` is read against it.
        date: headers.date ?? new Date(fetchedAt).toUTCString(),
      },
    },
    { shared: false, cacheHeuristic: 0 },
  )
  const directives = policy.toObject().rescc
  const said = headers.expires !== undefined || ['max-age', 'no-cache', 'no-store'].some((d) => d in directives)
  const ms = said ? policy.maxAge() * 1000 : bounds.default
  return Math.min(Math.max(ms, bounds.min), bounds.max)
}

import { LRUCache } from 'lru-cache'
import { type DocumentFetcher, type FetchRequest, type FetchResponse, FetchError, guardedFetch } from './fetch.js'

/**
 * A cache of fetched JSON documents (JWKS and metadata), keyed by URL (Signature-Key §7.3; AAuth
 * "JWKS Discovery and Caching"): caching is a MUST, bounded because unauthenticated callers cause
 * the entries. Shaped after jose's remote JWKS set (docs/architecture.md "Caches"):
 *  - lifetime from `Cache-Control: max-age` (or `Expires`), at least `minMaxAgeSeconds`, at most
 *    24 h; `defaultMaxAgeSeconds` when the server says nothing;
 *  - a forced refresh (an unknown `kid`) fetches at most once per `refreshCooldownSeconds` per URL;
 *  - concurrent misses share one in-flight fetch;
 *  - when a refetch fails the last good document keeps serving (`stale`), retried with
 *    exponential backoff (1 s doubling to the cooldown), counted from the end of the failed
 *    fetch; a URL that never loaded fails fast during the same backoff, so a dead issuer is not
 *    asked on every request.
 */

export type FetchResult = 'ok' | 'error' | 'not_modified'
export type CacheResult = 'hit' | 'miss' | 'stale'

/** Counters for docs/metrics.md `aauth_gateway_jwks_fetch_total` / `aauth_gateway_key_cache_total`. */
export interface KeyCacheObserver {
  /** `kind` is added by `Discovery`, which knows which of its caches fetched (docs/metrics.md). */
  onFetch?(result: FetchResult, kind?: 'metadata' | 'jwks'): void
  onCache?(result: CacheResult): void
}

export interface JwksCacheOptions {
  /** Default `guardedFetch`. */
  fetch?: DocumentFetcher
  /** Milliseconds since the epoch. Default `Date.now`. */
  now?: () => number
  /** URLs kept. Default 1 000; least recently used dropped beyond it. */
  maxEntries?: number
  /** Seconds a document lives when the response has no caching headers. Default 300. */
  defaultMaxAgeSeconds?: number
  /** Floor on the lifetime, whatever the server says (`no-cache` included). Default 60. */
  minMaxAgeSeconds?: number
  /** Cap on the lifetime (Signature-Key §7.3: 24 h). Default 86 400. */
  maxMaxAgeSeconds?: number
  /** Seconds between forced refreshes of one URL ("one fetch per issuer per minute"). Default 60. */
  refreshCooldownSeconds?: number
  /** Seconds past its lifetime that a document may still serve while refetches fail. Default 86 400. */
  maxStaleSeconds?: number
  observer?: KeyCacheObserver
}

export interface CachedDocument {
  doc: Readonly<Record<string, unknown>>
  /** True when fetched for this very call. */
  fresh: boolean
}

interface Entry {
  doc: Readonly<Record<string, unknown>>
  etag: string | undefined
  /** Milliseconds. */
  expiresAt: number
  /** When the last fetch began if it succeeded, or ended if it failed (the back-off's origin). */
  attemptedAt: number
  failures: number
}

interface Failure {
  error: unknown
  retryAt: number
  failures: number
}

/** Admission and limits for the fetch, from the caller (see `FetchRequest`). */
export type Admission = Omit<FetchRequest, 'etag'>

export class JwksCache {
  readonly #fetch: DocumentFetcher
  readonly #now: () => number
  readonly #observer: KeyCacheObserver
  readonly #entries: LRUCache<string, Entry>
  readonly #failures: LRUCache<string, Failure>
  readonly #inflight = new Map<string, Promise<Entry>>()
  readonly #ms: { default: number; min: number; max: number; cooldown: number; stale: number }

  constructor(options: JwksCacheOptions = {}) {
    this.#fetch = options.fetch ?? guardedFetch
    this.#now = options.now ?? Date.now
    this.#observer = options.observer ?? {}
    const max = options.maxEntries ?? 1000
    this.#entries = new LRUCache({ max })
    this.#failures = new LRUCache({ max })
    this.#ms = {
      default: (options.defaultMaxAgeSeconds ?? 300) * 1000,
      min: (options.minMaxAgeSeconds ?? 60) * 1000,
      max: (options.maxMaxAgeSeconds ?? 86_400) * 1000,
      cooldown: (options.refreshCooldownSeconds ?? 60) * 1000,
      stale: (options.maxStaleSeconds ?? 86_400) * 1000,
    }
  }

  /** Documents held (for `aauth_gateway_cache_entries`). */
  get size(): number {
    return this.#entries.size
  }

  /** The document at `url`; `refresh` asks for a refetch, granted once per cooldown. Throws `FetchError`. */
  async get(url: string, admission: Admission, opts: { refresh?: boolean } = {}): Promise<CachedDocument> {
    // Refused before the cache: an untrusted origin is neither fetched nor served, nor counted.
    if (!admission.trusted) throw new FetchError('untrusted', 'the origin is not trusted')
    const now = this.#now()
    let entry = this.#entries.get(url)
    if (entry !== undefined && now > entry.expiresAt + this.#ms.stale) {
      this.#entries.delete(url)
      entry = undefined
    }
    if (entry === undefined) return this.#firstLoad(url, admission, now)
    if (!this.#due(entry, now, opts.refresh === true)) {
      this.#observer.onCache?.(now < entry.expiresAt ? 'hit' : 'stale')
      return { doc: entry.doc, fresh: false }
    }
    try {
      const loaded = await this.#load(url, admission, entry)
      this.#observer.onCache?.('miss')
      return { doc: loaded.doc, fresh: true }
    } catch {
      this.#observer.onCache?.(now < entry.expiresAt ? 'hit' : 'stale')
      return { doc: entry.doc, fresh: false }
    }
  }

  /** Whether `entry` should be refetched now. */
  #due(entry: Entry, now: number, refresh: boolean): boolean {
    if (refresh) return now >= entry.attemptedAt + this.#ms.cooldown
    return now >= entry.expiresAt && now >= entry.attemptedAt + this.#backoff(entry.failures)
  }

  async #firstLoad(url: string, admission: Admission, now: number): Promise<CachedDocument> {
    const failed = this.#failures.get(url)
    if (failed !== undefined && now < failed.retryAt) throw failed.error
    this.#observer.onCache?.('miss')
    const loaded = await this.#load(url, admission, undefined)
    return { doc: loaded.doc, fresh: true }
  }

  /** Single flight: concurrent loads of one URL share one fetch. */
  #load(url: string, admission: Admission, previous: Entry | undefined): Promise<Entry> {
    let pending = this.#inflight.get(url)
    if (pending === undefined) {
      pending = this.#fetchEntry(url, admission, previous).finally(() => this.#inflight.delete(url))
      this.#inflight.set(url, pending)
    }
    return pending
  }

  async #fetchEntry(url: string, admission: Admission, previous: Entry | undefined): Promise<Entry> {
    const started = this.#now()
    let response: FetchResponse
    try {
      response = await this.#fetch(url, { ...admission, etag: previous?.etag })
      if (response.status === 304 && previous === undefined) throw new FetchError('status', 'HTTP 304')
    } catch (error) {
      this.#observer.onFetch?.('error')
      // The back-off runs from when the failure was known, not from when the fetch began: a
      // fetch that fails only at its timeout must not have used up its own back-off by then.
      this.#recordFailure(url, previous, error, this.#now())
      throw error
    }
    this.#observer.onFetch?.(response.status === 304 ? 'not_modified' : 'ok')
    const entry: Entry = {
      doc: response.body ?? (previous as Entry).doc,
      etag: response.headers.etag ?? previous?.etag,
      expiresAt: started + this.#lifetime(response.headers, started),
      attemptedAt: started,
      failures: 0,
    }
    this.#entries.set(url, entry)
    this.#failures.delete(url)
    return entry
  }

  #recordFailure(url: string, previous: Entry | undefined, error: unknown, at: number): void {
    if (previous !== undefined) {
      previous.attemptedAt = at
      previous.failures += 1
      return
    }
    const failures = (this.#failures.get(url)?.failures ?? 0) + 1
    this.#failures.set(url, { error, failures, retryAt: at + this.#backoff(failures) })
  }

  /** Milliseconds to wait after `failures` consecutive failures: 1 s, 2 s, 4 s ... up to the cooldown. */
  #backoff(failures: number): number {
    if (failures === 0) return 0
    return Math.min(1000 * 2 ** (failures - 1), this.#ms.cooldown)
  }

  /** Milliseconds the response may be used: max-age, else Expires - Date, else the default; clamped. */
  #lifetime(headers: FetchResponse['headers'], now: number): number {
    const cc = headers.cacheControl?.toLowerCase() ?? ''
    let ms: number | undefined
    const maxAge = /(?:^|[,\s])max-age\s*=\s*"?(\d+)/.exec(cc)
    if (/(?:^|[,\s])(?:no-store|no-cache)(?:$|[,\s=])/.test(cc)) ms = 0
    else if (maxAge?.[1] !== undefined) ms = Number(maxAge[1]) * 1000
    else if (headers.expires !== undefined) {
      const expires = Date.parse(headers.expires)
      const date = headers.date === undefined ? now : Date.parse(headers.date)
      if (Number.isFinite(expires) && Number.isFinite(date)) ms = expires - date
    }
    return Math.min(Math.max(ms ?? this.#ms.default, this.#ms.min), this.#ms.max)
  }
}

import { LRUCache } from 'lru-cache'
import { type DocumentFetcher, type FetchRequest, FetchError, guardedFetch } from './fetch.js'
import { documentLifetime, type LifetimeBounds } from './freshness.js'

/**
 * The cache of fetched key documents, JWKS and metadata alike, keyed by URL (Signature-Key §7.3;
 * AAuth "JWKS Discovery and Caching"): caching is a MUST, bounded because unauthenticated
 * callers cause the entries. The mechanics are `lru-cache`'s `fetch()`: a bounded LRU, one
 * in-flight fetch per URL shared by concurrent callers, a per-entry TTL, and the last good
 * document kept when a refetch rejects. Only the policy is written here:
 *  - trust: an untrusted origin is neither fetched nor served;
 *  - lifetime from the response's caching headers (`documentLifetime`), at least
 *    `minMaxAgeSeconds`, at most 24 h, `defaultMaxAgeSeconds` when the server says nothing;
 *  - a forced refresh (an unknown `kid`) fetches at most once per `refreshCooldownSeconds` per URL;
 *  - after a failed fetch, retries back off exponentially (1 s doubling to the cooldown), counted
 *    from the end of the failed fetch; meanwhile a document that loaded before serves `stale`
 *    (for at most `maxStaleSeconds` past its lifetime) and one that never loaded fails fast, so
 *    a dead issuer is not asked on every request.
 */

export type FetchResult = 'ok' | 'error' | 'not_modified'
export type CacheResult = 'hit' | 'miss' | 'stale'

/** Counters for `aauth_gateway_jwks_fetch_total` / `aauth_gateway_key_cache_total` (docs/metrics.md). */
export interface KeyCacheObserver {
  /** `kind` is added by `Discovery`, which knows which of its caches fetched (docs/metrics.md). */
  onFetch?(result: FetchResult, kind?: 'metadata' | 'jwks'): void
  onCache?(result: CacheResult): void
}

export interface KeyDocumentCacheOptions {
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

/** One cached document and the policy's bookkeeping; a successful fetch makes a new one. */
interface Entry {
  doc: Readonly<Record<string, unknown>>
  etag: string | undefined
  /** When the last fetch began if it succeeded, or ended if it failed (the back-off's origin). */
  attemptedAt: number
  failures: number
}

/** A URL that never loaded: why, and when it may be asked again. */
interface Failure {
  error: unknown
  retryAt: number
  failures: number
}

/** Admission and limits for the fetch, from the caller (see `FetchRequest`). */
export type Admission = Omit<FetchRequest, 'etag'>

export class KeyDocumentCache {
  readonly #fetch: DocumentFetcher
  readonly #now: () => number
  readonly #observer: KeyCacheObserver
  readonly #entries: LRUCache<string, Entry, Admission>
  readonly #failures: LRUCache<string, Failure>
  readonly #lifetime: LifetimeBounds
  readonly #ms: { cooldown: number; stale: number }

  constructor(options: KeyDocumentCacheOptions = {}) {
    this.#fetch = options.fetch ?? guardedFetch
    this.#now = options.now ?? Date.now
    this.#observer = options.observer ?? {}
    const max = options.maxEntries ?? 1000
    this.#entries = new LRUCache<string, Entry, Admission>({
      max,
      fetchMethod: (url, previous, { options: set, context }) => this.#fetchEntry(url, context, previous, set),
      // The lifetimes run on the injected clock; no cached "now", which would hide a moved clock.
      perf: { now: this.#now },
      ttlResolution: 0,
      // An eviction during a fetch must not turn into an abort error for the callers awaiting it.
      ignoreFetchAbort: true,
    })
    this.#failures = new LRUCache({ max })
    this.#lifetime = {
      default: (options.defaultMaxAgeSeconds ?? 300) * 1000,
      min: (options.minMaxAgeSeconds ?? 60) * 1000,
      max: (options.maxMaxAgeSeconds ?? 86_400) * 1000,
    }
    this.#ms = {
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
    const entry = this.#current(url)
    if (entry === undefined) return this.#firstLoad(url, admission, now)
    const fresh = this.#entries.getRemainingTTL(url) > 0
    if (!this.#due(entry, fresh, now, opts.refresh === true)) {
      this.#observer.onCache?.(fresh ? 'hit' : 'stale')
      return { doc: entry.doc, fresh: false }
    }
    // A rejected refetch resolves to the entry kept (`allowStaleOnFetchRejection`).
    const got = await this.#entries.fetch(url, { context: admission, forceRefresh: true, allowStaleOnFetchRejection: true })
    if (got !== undefined && got !== entry) {
      this.#observer.onCache?.('miss')
      return { doc: got.doc, fresh: true }
    }
    this.#observer.onCache?.(fresh ? 'hit' : 'stale')
    return { doc: entry.doc, fresh: false }
  }

  /** The entry for `url`, fresh or stale, unless it is past its lifetime by more than `maxStaleSeconds`. */
  #current(url: string): Entry | undefined {
    const entry = this.#entries.peek(url, { allowStale: true })
    if (entry !== undefined && this.#entries.getRemainingTTL(url) < -this.#ms.stale) {
      this.#entries.delete(url)
      return undefined
    }
    return entry
  }

  /** Whether `entry` should be refetched now. */
  #due(entry: Entry, fresh: boolean, now: number, refresh: boolean): boolean {
    if (refresh) return now >= entry.attemptedAt + this.#ms.cooldown
    return !fresh && now >= entry.attemptedAt + this.#backoff(entry.failures)
  }

  async #firstLoad(url: string, admission: Admission, now: number): Promise<CachedDocument> {
    const failed = this.#failures.get(url)
    if (failed !== undefined && now < failed.retryAt) throw failed.error
    this.#observer.onCache?.('miss')
    const got = await this.#entries.fetch(url, { context: admission, allowStaleOnFetchRejection: false })
    // `fetchMethod` never resolves `undefined`; the check is for the type.
    if (got === undefined) throw new FetchError('network', 'the document could not be loaded')
    return { doc: got.doc, fresh: true }
  }

  /** `lru-cache`'s `fetchMethod`: one GET (revalidating with the ETag), its lifetime as the TTL. */
  async #fetchEntry(url: string, admission: Admission, previous: Entry | undefined, set: { ttl?: number }): Promise<Entry> {
    const started = this.#now()
    try {
      const response = await this.#fetch(url, { ...admission, etag: previous?.etag })
      if (response.status === 304 && previous === undefined) throw new FetchError('status', 'HTTP 304')
      this.#observer.onFetch?.(response.status === 304 ? 'not_modified' : 'ok')
      // The lifetime counts from when the fetch began; lru-cache's TTL starts when it is stored.
      set.ttl = Math.max(1, started + documentLifetime(response.headers, started, this.#lifetime) - this.#now())
      this.#failures.delete(url)
      return {
        doc: response.body ?? (previous as Entry).doc,
        etag: response.headers.etag ?? previous?.etag,
        attemptedAt: started,
        failures: 0,
      }
    } catch (error) {
      this.#observer.onFetch?.('error')
      // The back-off runs from when the failure was known, not from when the fetch began: a
      // fetch that fails only at its timeout must not have used up its own back-off by then.
      this.#recordFailure(url, previous, error, this.#now())
      throw error
    }
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
}

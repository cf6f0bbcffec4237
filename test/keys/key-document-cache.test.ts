import assert from 'node:assert/strict'
import { test } from 'node:test'
import { type DocumentFetcher, FetchError, type FetchResponse } from '../../src/keys/fetch.js'
import { type CacheResult, type FetchResult, KeyDocumentCache, type KeyDocumentCacheOptions } from '../../src/keys/key-document-cache.js'
import type { Admission } from '../../src/keys/key-document-cache.js'

/**
 * The cache's timing rules (lifetimes, cooldown, backoff) in minutes and hours, so the clock is
 * injected here; the real-server behaviour is covered in discovery.test.ts.
 */
const ADMISSION: Admission = { trusted: true, policy: { timeoutMs: 1000, maxBytes: 1024, insecureOrigins: new Set() } }
const URL_A = 'https://agent.test/jwks.json'

interface Harness {
  cache: KeyDocumentCache
  calls: string[]
  fetches: FetchResult[]
  lookups: CacheResult[]
  clock: { ms: number }
  respond: (next: () => Promise<FetchResponse>) => void
}

function harness(options: KeyDocumentCacheOptions = {}): Harness {
  const calls: string[] = []
  const fetches: FetchResult[] = []
  const lookups: CacheResult[] = []
  const clock = { ms: 1_000_000 }
  let version = 0
  let next: () => Promise<FetchResponse> = async () => ({ status: 200, body: { v: ++version }, headers: {} })
  const fetch: DocumentFetcher = (url, request) => {
    calls.push(`${url} ${request.etag ?? ''}`.trim())
    return next()
  }
  const cache = new KeyDocumentCache({
    fetch,
    now: () => clock.ms,
    observer: { onFetch: (r) => fetches.push(r), onCache: (r) => lookups.push(r) },
    ...options,
  })
  return { cache, calls, fetches, lookups, clock, respond: (n) => { next = n } }
}

const minutes = (n: number): number => n * 60_000

test('serves a cached document until its lifetime ends (default 5 minutes)', async () => {
  const h = harness()
  assert.deepEqual((await h.cache.get(URL_A, ADMISSION)).doc, { v: 1 })
  h.clock.ms += minutes(4)
  const again = await h.cache.get(URL_A, ADMISSION)
  assert.deepEqual([again.doc, again.fresh], [{ v: 1 }, false])
  h.clock.ms += minutes(2)
  assert.deepEqual((await h.cache.get(URL_A, ADMISSION)).doc, { v: 2 })
  assert.deepEqual(h.lookups, ['miss', 'hit', 'miss'])
  assert.deepEqual(h.fetches, ['ok', 'ok'])
})

test('honours Cache-Control (max-age, no-cache, no-store, private), capped at 24 h and floored at 60 s; Expires when no max-age; 5 min when silent', async () => {
  const cases: [FetchResponse['headers'], number][] = [
    [{ cacheControl: 'public, max-age=600' }, 10],
    [{ cacheControl: 'max-age=999999999' }, 24 * 60],
    [{ cacheControl: 'no-cache' }, 1],
    [{ cacheControl: 'max-age=5' }, 1],
    [{ cacheControl: 'no-store' }, 1],
    [{ cacheControl: 'public' }, 5],
    [{ cacheControl: 'private, max-age=1200' }, 20],
    [{ cacheControl: 'Max-Age=600, must-revalidate' }, 10],
    [{ expires: new Date(1_000_000 - minutes(1)).toUTCString(), date: new Date(1_000_000).toUTCString() }, 1],
    [{ expires: new Date(1_000_000 + minutes(30)).toUTCString() }, 30],
    [{ expires: new Date(1_000_000 + minutes(30)).toUTCString(), date: new Date(1_000_000).toUTCString() }, 30],
  ]
  for (const [headers, lifetimeMinutes] of cases) {
    const h = harness()
    h.respond(async () => ({ status: 200, body: {}, headers }))
    await h.cache.get(URL_A, ADMISSION)
    h.clock.ms += minutes(lifetimeMinutes) - 1000
    await h.cache.get(URL_A, ADMISSION)
    assert.equal(h.calls.length, 1, `still cached just before ${lifetimeMinutes} min: ${JSON.stringify(headers)}`)
    h.clock.ms += 2000
    await h.cache.get(URL_A, ADMISSION)
    assert.equal(h.calls.length, 2, `refetched after ${lifetimeMinutes} min: ${JSON.stringify(headers)}`)
  }
})

test('a forced refresh fetches at most once per cooldown (one fetch per issuer per minute)', async () => {
  const h = harness()
  await h.cache.get(URL_A, ADMISSION)
  for (let i = 0; i < 20; i++) await h.cache.get(URL_A, ADMISSION, { refresh: true })
  assert.equal(h.calls.length, 1, 'the first load counts toward the cooldown')
  h.clock.ms += minutes(1)
  const refreshed = await h.cache.get(URL_A, ADMISSION, { refresh: true })
  assert.deepEqual([refreshed.doc, refreshed.fresh], [{ v: 2 }, true])
  await h.cache.get(URL_A, ADMISSION, { refresh: true })
  assert.equal(h.calls.length, 2)
})

test('concurrent misses share one in-flight fetch', async () => {
  const h = harness()
  let release: () => void = () => {}
  h.respond(() => new Promise((resolve) => { release = () => resolve({ status: 200, body: { one: true }, headers: {} }) }))
  const all = Array.from({ length: 10 }, () => h.cache.get(URL_A, ADMISSION))
  await new Promise((r) => setImmediate(r))
  release()
  const got = await Promise.all(all)
  assert.equal(h.calls.length, 1)
  assert.ok(got.every((g) => (g.doc as { one?: boolean }).one === true))
})

test('keeps serving the last good document when a refetch fails, and says stale', async () => {
  const h = harness()
  await h.cache.get(URL_A, ADMISSION)
  h.respond(async () => { throw new FetchError('network', 'down') })
  h.clock.ms += minutes(6)
  const stale = await h.cache.get(URL_A, ADMISSION)
  assert.deepEqual([stale.doc, stale.fresh], [{ v: 1 }, false])
  await h.cache.get(URL_A, ADMISSION)
  assert.equal(h.calls.length, 2, 'backs off after a failure instead of refetching on every lookup')
  h.clock.ms += 1000
  await h.cache.get(URL_A, ADMISSION)
  assert.equal(h.calls.length, 3, 'retries after the backoff (1 s, then doubling)')
  assert.deepEqual(h.lookups.slice(1), ['stale', 'stale', 'stale'])
  assert.deepEqual(h.fetches, ['ok', 'error', 'error'])
})

test('stops serving a stale document after maxStaleSeconds', async () => {
  const h = harness({ maxStaleSeconds: 600 })
  await h.cache.get(URL_A, ADMISSION)
  h.respond(async () => { throw new FetchError('network', 'down') })
  h.clock.ms += minutes(5) + minutes(11)
  await assert.rejects(h.cache.get(URL_A, ADMISSION), FetchError)
})

test('a document that never loaded fails fast during the backoff (no fetch storm on a dead issuer)', async () => {
  const h = harness()
  h.respond(async () => { throw new FetchError('timeout', 'slow') })
  await assert.rejects(h.cache.get(URL_A, ADMISSION), FetchError)
  await assert.rejects(h.cache.get(URL_A, ADMISSION), FetchError)
  assert.equal(h.calls.length, 1)
  h.clock.ms += 1000
  h.respond(async () => ({ status: 200, body: { back: 1 }, headers: {} }))
  assert.deepEqual((await h.cache.get(URL_A, ADMISSION)).doc, { back: 1 })
})

test('revalidates with the ETag and counts a 304 as not_modified', async () => {
  const h = harness()
  h.respond(async () => ({ status: 200, body: { v: 'tagged' }, headers: { etag: '"e1"' } }))
  await h.cache.get(URL_A, ADMISSION)
  h.respond(async () => ({ status: 304, body: undefined, headers: { cacheControl: 'max-age=3600' } }))
  h.clock.ms += minutes(6)
  assert.deepEqual((await h.cache.get(URL_A, ADMISSION)).doc, { v: 'tagged' })
  assert.equal(h.calls[1], `${URL_A} "e1"`)
  h.clock.ms += minutes(59)
  await h.cache.get(URL_A, ADMISSION)
  assert.equal(h.calls.length, 2, 'the 304 renewed the lifetime from its own max-age')
  assert.deepEqual(h.fetches, ['ok', 'not_modified'])
})

test('is bounded: the least recently used URL is dropped beyond maxEntries', async () => {
  const h = harness({ maxEntries: 2 })
  for (const u of ['a', 'b', 'c', 'a']) await h.cache.get(`https://${u}.test/jwks.json`, ADMISSION)
  assert.equal(h.calls.length, 4, 'a was evicted by c and fetched again')
})

test('the backoff counts from the end of a slow failed fetch, not its start (first load)', async () => {
  const h = harness()
  // The fetch fails only after 3 s (a timeout), longer than the first 1 s backoff.
  h.respond(async () => {
    h.clock.ms += 3000
    throw new FetchError('timeout', 'slow')
  })
  await assert.rejects(h.cache.get(URL_A, ADMISSION), FetchError)
  await assert.rejects(h.cache.get(URL_A, ADMISSION), FetchError)
  assert.equal(h.calls.length, 1, 'no second fetch right after the slow failure')
  h.clock.ms += 999
  await assert.rejects(h.cache.get(URL_A, ADMISSION), FetchError)
  assert.equal(h.calls.length, 1, 'still inside the 1 s backoff measured from the failure')
  h.clock.ms += 1
  await assert.rejects(h.cache.get(URL_A, ADMISSION), FetchError)
  assert.equal(h.calls.length, 2, 'retried once the backoff after the failure has passed')
})

test('the backoff counts from the end of a slow failed refetch while a stale document serves', async () => {
  const h = harness()
  await h.cache.get(URL_A, ADMISSION)
  h.respond(async () => {
    h.clock.ms += 3000
    throw new FetchError('timeout', 'slow')
  })
  h.clock.ms += minutes(6)
  assert.deepEqual((await h.cache.get(URL_A, ADMISSION)).doc, { v: 1 })
  assert.deepEqual((await h.cache.get(URL_A, ADMISSION)).doc, { v: 1 })
  assert.equal(h.calls.length, 2, 'the stale document serves without a refetch right after the slow failure')
  h.clock.ms += 999
  await h.cache.get(URL_A, ADMISSION)
  assert.equal(h.calls.length, 2)
  h.clock.ms += 1
  await h.cache.get(URL_A, ADMISSION)
  assert.equal(h.calls.length, 3)
})

test('a URL evicted while its fetch is in flight still answers its callers with the document', async () => {
  const h = harness({ maxEntries: 1 })
  let release: () => void = () => {}
  h.respond(() => new Promise((resolve) => { release = () => resolve({ status: 200, body: { slow: true }, headers: {} }) }))
  const slow = h.cache.get(URL_A, ADMISSION)
  await new Promise((r) => setImmediate(r))
  h.respond(async () => ({ status: 200, body: { other: true }, headers: {} }))
  assert.deepEqual((await h.cache.get('https://b.test/jwks.json', ADMISSION)).doc, { other: true })
  release()
  assert.deepEqual((await slow).doc, { slow: true })
})

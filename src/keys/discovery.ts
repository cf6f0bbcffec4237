import { SignatureError } from '../errors.js'
import { FetchError } from './fetch.js'
import { type Admission, type CachedDocument, KeyDocumentCache, type KeyDocumentCacheOptions } from './key-document-cache.js'
import { originOf } from './trust.js'
import type { FetchPolicy, FoundKey, IssuerKeySource, ServerKeyQuery } from './types.js'

/**
 * Key discovery (AAuth -11 §11.2 "Metadata Documents"; Signature-Key §3 `jwks_uri`, `jwks`):
 * `{issuer}/.well-known/{document}` -> check its issuer member equals `issuer` byte for byte
 * (RFC 8414 §3.3) -> its `jwks_uri` -> the key with `kid`. Keys are selected by `kid` only and are
 * returned unvalidated, so an unusable sibling in the JWKS never fails a lookup.
 *
 * Metadata and JWKS live in two `KeyDocumentCache`s; only JWKS lookups count as key-cache results.
 * An unknown `kid` forces one JWKS refresh, which the cache grants once per cooldown.
 */
export class Discovery implements IssuerKeySource {
  readonly #metadata: KeyDocumentCache
  readonly #jwks: KeyDocumentCache

  constructor(options: KeyDocumentCacheOptions = {}) {
    const { observer } = options
    // Fetches are told apart by kind, so a dashboard shows a failing metadata document apart
    // from a failing key set; only JWKS lookups are key-cache results.
    this.#metadata = new KeyDocumentCache({ ...options, observer: { onFetch: (r) => observer?.onFetch?.(r, 'metadata') } })
    this.#jwks = new KeyDocumentCache({ ...options, observer: { onFetch: (r) => observer?.onFetch?.(r, 'jwks'), onCache: (r) => observer?.onCache?.(r) } })
  }

  /** Documents held by each cache (for `aauth_gateway_cache_entries`). */
  sizes(): { metadata: number; jwks: number } {
    return { metadata: this.#metadata.size, jwks: this.#jwks.size }
  }

  async serverKey(query: ServerKeyQuery, policy: FetchPolicy, opts: { refresh?: boolean } = {}): Promise<FoundKey> {
    const metadataUrl = `${query.issuer}/.well-known/${query.document}`
    const metadata = await fetchDocument(this.#metadata, metadataUrl, { trusted: query.trusted(query.issuer), policy })
    checkIssuer(metadata.doc, query)
    const jwksUri = metadata.doc.jwks_uri
    const origin = typeof jwksUri === 'string' ? originOf(jwksUri) : undefined
    if (typeof jwksUri !== 'string' || origin === undefined) {
      throw new SignatureError('invalid_key', `the ${query.document} document has no usable jwks_uri`)
    }
    const trusted = origin === originOf(query.issuer) || query.trusted(origin)
    return this.#select(jwksUri, query.kid, { trusted, policy }, opts.refresh === true)
  }

  async jwksKey(url: string, kid: string, policy: FetchPolicy): Promise<FoundKey> {
    return this.#select(url, kid, { trusted: true, policy }, false)
  }

  /** The key with `kid`; when absent from a cached set, one refresh (cooldown permitting). */
  async #select(url: string, kid: string, admission: Admission, refresh: boolean): Promise<FoundKey> {
    const first = await fetchDocument(this.#jwks, url, admission, refresh)
    const found = keyWithKid(first.doc, kid)
    if (found !== undefined) return { jwk: found, fresh: first.fresh }
    if (!first.fresh) {
      const again = await fetchDocument(this.#jwks, url, admission, true)
      const refreshed = keyWithKid(again.doc, kid)
      if (refreshed !== undefined) return { jwk: refreshed, fresh: again.fresh }
    }
    throw new SignatureError('unknown_key', 'no key with this kid in the issuer JWKS')
  }
}

async function fetchDocument(cache: KeyDocumentCache, url: string, admission: Admission, refresh = false): Promise<CachedDocument> {
  try {
    return await cache.get(url, admission, { refresh })
  } catch (err) {
    if (err instanceof FetchError) {
      // The agent learns what kind of failure; the operator also learns where and why.
      const cause = err.cause instanceof Error ? `: ${err.cause.message}` : ''
      throw new SignatureError('invalid_key', `key discovery failed (${err.failure}): ${err.message}`).withInternal(`GET ${url}${cause}`)
    }
    throw err
  }
}

/** The first present of `issuerMembers` must equal the issuer (AAuth -11 §11.2; RFC 8414 §3.3). */
function checkIssuer(doc: Readonly<Record<string, unknown>>, query: ServerKeyQuery): void {
  const member = query.issuerMembers.find((m) => doc[m] !== undefined)
  if (member === undefined) throw new SignatureError('issuer_missing', `the ${query.document} document names no issuer`)
  if (doc[member] !== query.issuer) {
    throw new SignatureError('issuer_mismatch', `the ${query.document} document names another issuer`)
  }
}

function keyWithKid(jwks: Readonly<Record<string, unknown>>, kid: string): Readonly<Record<string, unknown>> | undefined {
  const keys = jwks.keys
  if (!Array.isArray(keys)) throw new SignatureError('invalid_key', 'the JWKS has no keys array')
  return keys.find((k: unknown): k is Record<string, unknown> => typeof k === 'object' && k !== null && (k as Record<string, unknown>).kid === kid)
}

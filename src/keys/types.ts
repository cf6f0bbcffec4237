import type { Identity, SchemeName } from '../identity.js'
import type { ResourceConfigView } from '../config/view.js'
import type { SignatureAlgorithm, SignatureKeyMember, VerifyKey } from '../signature/types.js'

/** What a scheme resolver learned: the key that must have signed, and who that makes the caller. */
export interface ResolvedKey {
  key: VerifyKey
  /** Identity facts the scheme established; `thumbprint` is filled from `key`. */
  identity: Omit<Identity, 'thumbprint'>
}

/**
 * Everything a resolver may consult. Built from the current config snapshot plus the long-lived
 * services (caches survive reloads); nothing here is module-level state.
 */
export interface ResolveContext {
  config: ResourceConfigView
  /** Seconds since the epoch; injectable only for conformance vectors with frozen clocks. */
  now(): number
  /** The long-lived key services: build once with `createKeyServices()` (src/keys/services.ts). */
  services: KeyServices
}

/** Resolves one Signature-Key scheme to a key (Signature-Key draft §3). Throws `SignatureError`. */
export type KeyResolver = (member: SignatureKeyMember, ctx: ResolveContext) => Promise<ResolvedKey>

/** What the `x509` scheme needs of the chain cache (src/keys/x509-chains.ts). */
export interface X509ChainCacheLike {
  get(x5u: string, x5t: string, policy: FetchPolicy): Promise<Buffer>
}

export type SchemeTable = Readonly<Record<SchemeName, KeyResolver>>

/**
 * Caches and fetchers that outlive a config snapshot. One instance per process, shared by all
 * requests; every member is bounded.
 */
export interface KeyServices {
  /** Metadata and JWKS discovery over HTTP with caching (src/keys/discovery.ts). */
  readonly keySource: IssuerKeySource
  /** Public JWK -> `VerifyKey`, imported once per key (src/keys/jwk.ts). */
  readonly importer: KeyImporterLike
  /** Verified JWTs, so a token is verified once, not once per request (src/tokens/cache.ts). */
  readonly tokens: VerifiedTokenCacheLike
  /** `x509` chains fetched from `x5u`, kept a few minutes (src/keys/x509-chains.ts). */
  readonly x509Chains?: X509ChainCacheLike
  /** Entries held by each cache, for `aauth_gateway_cache_entries` (read at scrape time). */
  cacheSizes?(): Readonly<Record<string, number>>
}

/** Rules a public signing JWK must meet (Signature-Key §3.3, AAuth "Signature Algorithms"). */
export interface JwkRules {
  /** Algorithms this gateway accepts (`signatures.algorithms`). */
  algorithms: readonly SignatureAlgorithm[]
  /** January-2026 format: a key without `alg`, or with `EdDSA`, on OKP/Ed25519 means Ed25519. */
  legacy: boolean
}

export interface KeyImporterLike {
  /** Validates `jwk` and returns it as a `VerifyKey`. Throws `SignatureError` (`invalid_key`, `unsupported_algorithm`). */
  verifyKey(jwk: unknown, rules: JwkRules): Promise<VerifyKey>
}

export interface VerifiedTokenCacheLike {
  /** The cached result for `token` when verified under this very config snapshot; checks `exp`. */
  get(token: string, ctx: ResolveContext): ResolvedKey | undefined
  /** Remembers `result` until `exp` (seconds since the epoch). */
  set(token: string, result: ResolvedKey, exp: number, ctx: ResolveContext): void
}

/** Limits and admissions for one outbound discovery fetch (Signature-Key §7.2-7.3). */
export interface FetchPolicy {
  /** Milliseconds before the fetch is abandoned (`limits.fetch_timeout` x 1000). */
  readonly timeoutMs: number
  /** Bytes a document may have (`limits.fetch_max_bytes`). */
  readonly maxBytes: number
  /** Exact `http://` origins allowed, and exempt from the private-address check (`trust.insecure_issuers`). */
  readonly insecureOrigins: ReadonlySet<string>
}

/** Where a server's keys are found: `{issuer}/.well-known/{document}` -> `jwks_uri` -> `kid`. */
export interface ServerKeyQuery {
  /** The server identifier, already checked to be trusted. */
  issuer: string
  /** The well-known document name, e.g. `aauth-agent.json` (the `dwk`). */
  document: string
  /**
   * Members of the document that may name the issuer, first present wins; it must equal `issuer`
   * byte for byte. `['issuer']` today; the January-2026 agent document used `agent`.
   */
  issuerMembers: readonly string[]
  kid: string
  /**
   * Whether an origin is trusted for this role: asked of the issuer itself (defence in depth,
   * the resolver already checked) and of a cross-origin `jwks_uri` (a same-origin one is admitted).
   */
  trusted(origin: string): boolean
}

/** A JWK as found in a JWKS, not yet validated (selection is by `kid` only). */
export interface FoundKey {
  jwk: Readonly<Record<string, unknown>>
  /** True when the JWKS was fetched for this very lookup (a retry would not help). */
  fresh: boolean
}

/** The source of issuers' public keys. Throws `SignatureError`. */
export interface IssuerKeySource {
  /** Throws `issuer_missing`, `issuer_mismatch`, `unknown_key`, or `invalid_key` (unreachable). */
  serverKey(query: ServerKeyQuery, policy: FetchPolicy, opts?: { refresh?: boolean }): Promise<FoundKey>
  /** The JWK with `kid` in the JWKS at `url` (the `jwks` scheme). Throws `unknown_key`, `invalid_key`. */
  jwksKey(url: string, kid: string, policy: FetchPolicy): Promise<FoundKey>
}

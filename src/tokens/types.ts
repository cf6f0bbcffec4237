import type { JWTPayload } from 'jose'
import type { Identity } from '../identity.js'
import type { TrustList } from '../keys/trust.js'
import type { ResolveContext } from '../keys/types.js'

/** A verified token's claims. */
export type Claims = Readonly<JWTPayload>

/** What a token kind contributes to the identity; the common code adds scheme, type and claims. */
export type TokenIdentity = Omit<Identity, 'thumbprint' | 'scheme' | 'tokenType' | 'claims'>

/** Where an issuer's keys are found, and which trust lists may vouch for it. */
export type KeyDiscovery =
  /** Current format: the `dwk` claim names the document; each accepted `dwk` has its trust lists. */
  | { kind: 'dwk'; documents: Readonly<Record<string, readonly TrustList[]>> }
  /** January-2026 format: a fixed document (no `dwk` claim) naming the issuer in `issuerMembers`. */
  | { kind: 'fixed'; document: string; issuerMembers: readonly string[]; trust: readonly TrustList[] }

/**
 * One JWT type accepted in `Signature-Key: jwt` (AAuth -11 §11.5). The common rules (typ, alg,
 * dwk, discovery, signature, exp, iat, iss, cnf) run first; `identify` adds the type's own.
 */
export interface TokenKind {
  /** The `typ` header, lower case, without `application/`. */
  typ: string
  /** `legacy` kinds are accepted only with `signatures.legacy: true`, and use the legacy key rules. */
  vintage: 'current' | 'legacy'
  discovery: KeyDiscovery
  /** Whether `iat` must be present (AAuth -11 §11.5: REQUIRED; absent in January-2026 tokens). */
  requireIat: boolean
  /** Most seconds `exp - iat` may span (AAuth -11: 3600 for person and auth tokens); unset = not checked. */
  maxLifetime?: number
  /** Type-specific checks on verified claims, and the identity. Throws `SignatureError`. */
  identify(claims: Claims, ctx: ResolveContext): TokenIdentity
}

import type { JWTPayload, ProtectedHeaderParameters } from 'jose'
import { SignatureError } from '../errors.js'
import { isIssuerOrigin, isTrusted, type TrustList } from '../keys/trust.js'
import type { ResolveContext, ResolvedKey, ServerKeyQuery } from '../keys/types.js'
import type { VerifyKey } from '../signature/types.js'
import { invalidJwt } from './claims.js'
import { decodeClaims, decodeHeader } from './decode.js'
import { TOKEN_KINDS } from './kinds.js'
import type { TokenKind } from './types.js'
import { verifyJwtSignature } from './verify.js'

/**
 * Common verification of an AAuth JWT carried in `Signature-Key` (AAuth -11 §11.5 "Common JWT
 * Verification"; Signature-Key §3.5). The order is the spec's, with one deliberate change: `iss`
 * is checked (format and trust) before discovery, because only trusted issuers are ever fetched.
 * Everything before `verifyJwtSignature` reads unverified values only to decide how to verify.
 *
 * Codes: header `alg` not acceptable (`none`, `HS*`, `EdDSA` outside legacy, or any alg not in
 * `signatures.algorithms`) is `invalid_jwt`, not `unsupported_algorithm`: the token's issuer chose
 * it, and `Accept-Signature-Alg` (which governs the request signature) cannot help the agent.
 * `cnf.jwk` faults keep the key codes (`invalid_key`, `unsupported_algorithm`): that key is the
 * request-signing key, which the agent does choose.
 */
export async function verifyAAuthJwt(jwt: string, ctx: ResolveContext): Promise<{ resolved: ResolvedKey; exp: number }> {
  const header = decodeHeader(jwt)
  const kind = tokenKind(header, ctx) // 1. typ, before acting on anything else
  const alg = headerAlgorithm(header, kind, ctx) // RFC 8725 §3.1: never let the token pick
  const kid = headerKid(header)
  const query = keyQuery(decodeClaims(jwt), kind, kid, ctx) // 2. dwk; 4. iss well-formed and trusted
  const legacy = kind.vintage === 'legacy'
  const claims = await verifyJwtSignature(jwt, { alg, query, legacy }, ctx) // 2. discovery, kid, signature; 3. exp
  const exp = checkTimes(claims, kind, ctx)
  const key = await confirmationKey(claims, legacy, ctx)
  const identity = Object.freeze({
    ...kind.identify(claims, ctx),
    scheme: 'jwt' as const,
    tokenType: kind.typ,
    claims: Object.freeze({ ...claims }),
  })
  return { resolved: Object.freeze({ key, identity }), exp }
}

function tokenKind(header: ProtectedHeaderParameters, ctx: ResolveContext): TokenKind {
  const typ = typeof header.typ === 'string' ? header.typ.toLowerCase().replace(/^application\//, '') : ''
  const kind = Object.hasOwn(TOKEN_KINDS, typ) ? TOKEN_KINDS[typ] : undefined
  if (kind === undefined) throw invalidJwt('the JWT typ is not an AAuth token type accepted here')
  if (kind.vintage === 'legacy' && !ctx.config.signatures.legacy) throw invalidJwt('legacy token types are not accepted')
  return kind
}

function headerAlgorithm(header: ProtectedHeaderParameters, kind: TokenKind, ctx: ResolveContext): string {
  const accepted: readonly string[] = ctx.config.signatures.algorithms
  const alg = header.alg
  if (typeof alg === 'string' && accepted.includes(alg)) return alg
  if (alg === 'EdDSA' && kind.vintage === 'legacy' && accepted.includes('Ed25519')) return alg
  throw invalidJwt(`the JWT alg is not accepted (accepted: ${accepted.join(', ')})`)
}

function headerKid(header: ProtectedHeaderParameters): string {
  if (typeof header.kid !== 'string' || header.kid === '') throw invalidJwt('the JWT header has no kid')
  return header.kid
}

/** Where the issuer's keys are: checks `dwk` for the type, then that `iss` is well formed and trusted. */
function keyQuery(claims: JWTPayload, kind: TokenKind, kid: string, ctx: ResolveContext): ServerKeyQuery {
  const { config } = ctx
  const d = kind.discovery
  let document: string
  let issuerMembers: readonly string[] = ['issuer']
  let trust: readonly TrustList[]
  if (d.kind === 'dwk') {
    const dwk = claims.dwk
    const lists = typeof dwk === 'string' && Object.hasOwn(d.documents, dwk) ? d.documents[dwk] : undefined
    if (lists === undefined) throw invalidJwt(`the dwk claim is not one expected for ${kind.typ}`)
    ;[document, trust] = [dwk as string, lists]
  } else {
    ;[document, issuerMembers, trust] = [d.document, d.issuerMembers, d.trust]
  }
  const iss = claims.iss
  if (!isIssuerOrigin(iss, config, kind.vintage === 'legacy')) throw invalidJwt('the iss claim is not a server identifier')
  if (!isTrusted(iss, trust, config)) {
    throw invalidJwt('the token issuer is not trusted').withInternal(`iss ${iss} is not in ${trust.map((t) => `trust.${t}`).join(' or ')}`)
  }
  return { issuer: iss, document, issuerMembers, kid, trusted: (origin) => isTrusted(origin, trust, config) }
}

/**
 * `exp` required (jose already refused a past one); `iat` required in -11 and not ahead by more
 * than the window; `exp - iat` within the kind's `maxLifetime`. A token without `iat` (January
 * 2026) has lived at least `exp - now` by then, give or take the issuer's clock, so its `exp` may
 * be at most `maxLifetime` plus the window ahead.
 */
function checkTimes(claims: JWTPayload, kind: TokenKind, ctx: ResolveContext): number {
  const { exp, iat } = claims
  if (typeof exp !== 'number') throw invalidJwt('the exp claim is required')
  if (iat === undefined) {
    if (kind.requireIat) throw invalidJwt('the iat claim is required')
    if (kind.maxLifetime !== undefined && exp - ctx.now() > kind.maxLifetime + ctx.config.signatures.window) {
      throw invalidJwt(`the token lifetime exceeds ${kind.maxLifetime} s`)
    }
    return exp
  }
  if (typeof iat !== 'number') throw invalidJwt('the iat claim must be a number')
  if (iat > ctx.now() + ctx.config.signatures.window) {
    throw new SignatureError('clock_skew', 'the JWT iat is ahead of our clock by more than the window')
  }
  if (kind.maxLifetime !== undefined && exp - iat > kind.maxLifetime) {
    throw invalidJwt(`the token lifetime exceeds ${kind.maxLifetime} s`)
  }
  return exp
}

/** `cnf.jwk` (RFC 7800): the key that must sign the request. A missing one is `invalid_jwt`. */
async function confirmationKey(claims: JWTPayload, legacy: boolean, ctx: ResolveContext): Promise<VerifyKey> {
  const cnf = claims.cnf
  const jwk = typeof cnf === 'object' && cnf !== null ? (cnf as Record<string, unknown>).jwk : undefined
  if (typeof jwk !== 'object' || jwk === null) throw invalidJwt('the cnf.jwk claim is required')
  return ctx.services.importer.verifyKey(jwk, { algorithms: ctx.config.signatures.algorithms, legacy })
}

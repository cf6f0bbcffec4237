import type { JWTPayload, ProtectedHeaderParameters } from 'jose'
import { SignatureError } from '../../errors.js'
import { decodeClaims, decodeHeader } from '../../tokens/decode.js'
import { TOKEN_KINDS } from '../../tokens/kinds.js'
import { verifyJwtSignature } from '../../tokens/verify.js'
import { fetchPolicyFor } from '../fetch.js'
import { isIssuerOrigin, isTrusted } from '../trust.js'
import type { KeyResolver, ResolveContext, ServerKeyQuery } from '../types.js'
import { ROLE_BY_DOCUMENT } from './jwks_uri.js'
import { schemeIdentity } from './identity.js'
import { requiredParam } from './params.js'

/** A media-type-like `typ` ending in `+jwt` (RFC 8725 §3.11 explicit typing). */
const TYP = /^[a-z0-9][a-z0-9.-]*\+jwt$/

/**
 * Types this gateway gives another meaning: AAuth tokens (the `jwt` scheme), its own resource
 * tokens, and `jkt-jwt` assertions. Accepting one of them as a self-jwt would be the token
 * confusion RFC 8725 §3.11 warns of.
 */
const OTHER_TYPES: ReadonlySet<string> = new Set([...Object.keys(TOKEN_KINDS), 'aa-resource+jwt', 'jkt-s256+jwt', 'jkt-s512+jwt'])

/**
 * `self-jwt` (Signature-Key -09 §3.9): the JWT's issuer is the signer. `{iss}/.well-known/{dwk}`
 * names the JWKS (its `issuer` must equal `iss`), the header `kid` picks the key, and that one
 * key verifies both the JWT and the request. The order is the draft's: typ, exp, presence of
 * `iss`/`dwk`/`kid`, no `cnf`, then discovery and the signature. As for `jwks_uri`, `dwk` must
 * name an AAuth metadata document and `iss` must be in that role's trust list, so only trusted
 * issuers are fetched. The issuer is the caller: level `identified`, `aauth.agent` = `iss`.
 *
 * Policy (the draft leaves it to the verifier): `typ` is required, ends in `+jwt` and is not a
 * type the gateway reads elsewhere; `aud`, when present, must be `resource.issuer`.
 * Codes: all of that, a missing claim, `cnf` present, or a JWS that does not verify is
 * `invalid_jwt`; a past `exp` is `expired_jwt`; discovery answers `issuer_missing`,
 * `issuer_mismatch`, `unknown_key` (after one JWKS refresh).
 */
export const resolveSelfJwt: KeyResolver = async (member, ctx) => {
  const jwt = requiredParam(member, 'jwt')
  const header = decodeHeader(jwt) // 1
  const typ = typeof header.typ === 'string' ? header.typ.toLowerCase() : ''
  if (!TYP.test(typ) || OTHER_TYPES.has(typ)) throw invalidJwt('the JWT typ is not one a self-jwt may carry') // 2
  const alg = headerAlgorithm(header, ctx)
  const claims = decodeClaims(jwt)
  if (typeof claims.exp !== 'number') throw invalidJwt('the exp claim is required') // 3 (jose checks the time)
  if (claims.cnf !== undefined) throw invalidJwt('a self-jwt must not carry cnf') // 5
  const query = keyQuery(claims, header, ctx) // 4
  const verified = await verifyJwtSignature(jwt, { alg, query, legacy: false }, ctx) // 6-7, and exp
  if (verified.aud !== undefined && verified.aud !== ctx.config.issuer) throw invalidJwt('the aud claim is not this resource') // 8
  // 9: the key that verified the JWT is now in the JWKS cache (refreshed if it had to be).
  const found = await ctx.services.keySource.serverKey(query, fetchPolicyFor(ctx.config))
  const key = await ctx.services.importer.verifyKey(found.jwk, { algorithms: ctx.config.signatures.algorithms, legacy: false })
  return {
    key,
    identity: Object.freeze({ ...schemeIdentity('self-jwt', 'identified', query.issuer), tokenType: typ, claims: Object.freeze({ ...verified }) }),
  }
}

function headerAlgorithm(header: ProtectedHeaderParameters, ctx: ResolveContext): string {
  const accepted: readonly string[] = ctx.config.signatures.algorithms
  if (typeof header.alg === 'string' && accepted.includes(header.alg)) return header.alg
  throw invalidJwt(`the JWT alg is not accepted (accepted: ${accepted.join(', ')})`)
}

/** `iss`, `dwk` and header `kid` present; `dwk` an AAuth document; `iss` trusted for its role. */
function keyQuery(claims: JWTPayload, header: ProtectedHeaderParameters, ctx: ResolveContext): ServerKeyQuery {
  const { iss, dwk } = claims
  if (typeof iss !== 'string' || iss === '') throw invalidJwt('the iss claim is required')
  if (typeof dwk !== 'string' || dwk === '') throw invalidJwt('the dwk claim is required')
  if (typeof header.kid !== 'string' || header.kid === '') throw invalidJwt('the JWT header has no kid')
  const role = Object.hasOwn(ROLE_BY_DOCUMENT, dwk) ? ROLE_BY_DOCUMENT[dwk] : undefined
  if (role === undefined) throw invalidJwt('the dwk claim names no AAuth metadata document')
  const { config } = ctx
  if (!isIssuerOrigin(iss, config, false)) throw invalidJwt('the iss claim is not a server identifier')
  if (!isTrusted(iss, [role], config)) throw invalidJwt('the self-jwt issuer is not trusted').withInternal(`iss ${iss} is not in trust.${role}`)
  return { issuer: iss, document: dwk, issuerMembers: ['issuer'], kid: header.kid, trusted: (origin) => isTrusted(origin, [role], config) }
}

function invalidJwt(detail: string): SignatureError {
  return new SignatureError('invalid_jwt', detail)
}

import { calculateJwkThumbprint, errors, jwtVerify, type JWTPayload } from 'jose'
import { SignatureError } from '../../errors.js'
import { decodeClaims, decodeHeader } from '../../tokens/decode.js'
import type { VerifyKey } from '../../signature/types.js'
import type { KeyResolver, ResolveContext } from '../types.js'
import { schemeIdentity } from './identity.js'
import { requiredParam } from './params.js'

/** The `typ` values of Signature-Key -09 §3.5 Table 1: the thumbprint hash and the `iss` prefix. */
const JKT_TYPES: Readonly<Record<string, { hash: 'sha256' | 'sha512'; prefix: string }>> = Object.freeze({
  'jkt-s256+jwt': { hash: 'sha256', prefix: 'urn:jkt:sha-256:' },
  'jkt-s512+jwt': { hash: 'sha512', prefix: 'urn:jkt:sha-512:' },
})

/**
 * `jkt-jwt` (Signature-Key -09 §3.5): a self-issued delegation. The JWT header carries the
 * enclave key (`jwk`) that signed the JWT; `iss` is that key's JWK Thumbprint URI, recomputed
 * here and compared by string equality (never trusted as sent); `cnf.jwk` is the ephemeral key
 * that must sign the request. Nobody vouches for the enclave key, so the level is
 * `pseudonymous`; `aauth.agent` is the `iss` URN, the stable device identity (TOFU), while
 * `aauth.thumbprint` is the per-request key's.
 *
 * Codes (§5.4): a malformed JWT, a `typ` outside Table 1, a header `alg` that is not accepted or
 * not the header key's, an `iss` that is not the recomputed URN, a missing `iat`/`exp`/`cnf.jwk`,
 * or a JWS that does not verify: `invalid_jwt`; a past `exp`: `expired_jwt`; `iat` ahead by
 * more than `signatures.window`: `clock_skew`. Faults in the header `jwk` or `cnf.jwk` keep the
 * key codes (`invalid_key`, `unsupported_algorithm`): the caller chose both keys. The `cache`
 * parameter is accepted and ignored: this gateway issues no cache identifiers (§3.11).
 */
export const resolveJktJwt: KeyResolver = async (member, ctx) => {
  const jwt = requiredParam(member, 'jwt')
  const header = decodeHeader(jwt) // 1. parse, unverified
  const typ = typeof header.typ === 'string' ? header.typ.toLowerCase() : ''
  const type = Object.hasOwn(JKT_TYPES, typ) ? JKT_TYPES[typ] : undefined // 2-3. typ -> hash, prefix
  if (type === undefined) throw invalidJwt('the JWT typ is not jkt-s256+jwt or jkt-s512+jwt')
  const accepted: readonly string[] = ctx.config.signatures.algorithms
  if (typeof header.alg !== 'string' || !accepted.includes(header.alg)) {
    throw invalidJwt(`the JWT alg is not accepted (accepted: ${accepted.join(', ')})`)
  }
  if (header.jwk === undefined) throw invalidJwt('the JWT header has no jwk')
  const rules = { algorithms: ctx.config.signatures.algorithms, legacy: false }
  const enclave = await ctx.services.importer.verifyKey(header.jwk, rules) // 4. the header jwk (§3.3)
  if (enclave.alg !== header.alg) throw invalidJwt('the JWT alg is not its header key\'s alg')
  const expected = type.prefix + (await calculateJwkThumbprint(enclave.jwk as Parameters<typeof calculateJwkThumbprint>[0], type.hash)) // 5-6
  if (decodeClaims(jwt).iss !== expected) throw invalidJwt('the iss claim is not the thumbprint URI of the header jwk') // 7
  const claims = await verifyJws(jwt, enclave, header.alg, ctx) // 8-9 (exp)
  checkIat(claims, ctx) // 9 (iat)
  const key = await confirmationKey(claims, ctx) // 10
  return {
    key,
    identity: Object.freeze({ ...schemeIdentity('jkt-jwt', 'pseudonymous', expected), tokenType: typ, claims: Object.freeze({ ...claims }) }),
  }
}

/** jose verifies the JWS under exactly the admitted `alg`, with `exp` at `ctx.now()`, zero tolerance. */
async function verifyJws(jwt: string, key: VerifyKey, alg: string, ctx: ResolveContext): Promise<JWTPayload> {
  try {
    const { payload } = await jwtVerify(jwt, key.key, {
      algorithms: [alg],
      currentDate: new Date(ctx.now() * 1000),
      clockTolerance: 0,
      requiredClaims: ['iss', 'iat', 'exp', 'cnf'],
    })
    return payload
  } catch (err) {
    if (err instanceof errors.JWTExpired) throw new SignatureError('expired_jwt', 'the JWT has expired')
    if (err instanceof errors.JWSSignatureVerificationFailed) throw invalidJwt('the JWT signature does not verify')
    if (err instanceof errors.JWTClaimValidationFailed) throw invalidJwt(`the JWT claim ${err.claim} is not valid (${err.reason})`)
    throw invalidJwt('the JWT is malformed')
  }
}

/** `iat` is REQUIRED (§3.5); one further ahead than the signature window is `clock_skew` (§5.4.14). */
function checkIat(claims: JWTPayload, ctx: ResolveContext): void {
  if (typeof claims.iat !== 'number') throw invalidJwt('the iat claim must be a number')
  if (claims.iat > ctx.now() + ctx.config.signatures.window) {
    throw new SignatureError('clock_skew', 'the JWT iat is ahead of our clock by more than the window')
  }
}

/** `cnf.jwk` (RFC 7800): the delegated key that must sign the request. */
async function confirmationKey(claims: JWTPayload, ctx: ResolveContext): Promise<VerifyKey> {
  const cnf = claims.cnf
  const jwk = typeof cnf === 'object' && cnf !== null ? (cnf as Record<string, unknown>).jwk : undefined
  if (typeof jwk !== 'object' || jwk === null) throw invalidJwt('the cnf.jwk claim is required')
  return ctx.services.importer.verifyKey(jwk, { algorithms: ctx.config.signatures.algorithms, legacy: false })
}

function invalidJwt(detail: string): SignatureError {
  return new SignatureError('invalid_jwt', detail)
}

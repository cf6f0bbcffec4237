import { errors, jwtVerify, type JWTPayload } from 'jose'
import { SignatureError } from '../errors.js'
import { fetchPolicyFor } from '../keys/fetch.js'
import type { FoundKey, ResolveContext, ServerKeyQuery } from '../keys/types.js'
import type { VerifyKey } from '../signature/types.js'

/** How to check one token's signature: the header `alg` (already admitted) and where its key is. */
export interface SignaturePlan {
  alg: string
  query: ServerKeyQuery
  /** January-2026 key rules (keys without `alg`). */
  legacy: boolean
}

/**
 * Discovers the issuer key `kid`, verifies the JWS with jose under exactly the header `alg` we
 * admitted (never letting jose choose), and checks `exp` with zero tolerance at `ctx.now()`
 * (AAuth -11 §11.5 "Common JWT Verification" steps 2-3). If a cached key fails, the JWKS is
 * refreshed once (cooldown permitting) and the check retried (Signature-Key §7.3).
 */
export async function verifyJwtSignature(jwt: string, plan: SignaturePlan, ctx: ResolveContext): Promise<JWTPayload> {
  const found = await issuerJwk(plan, ctx, false)
  try {
    return await verifyWith(jwt, found, plan, ctx)
  } catch (err) {
    if (!(err instanceof errors.JWSSignatureVerificationFailed) || found.fresh) throw joseFailure(err)
    const again = await issuerJwk(plan, ctx, true)
    if (again.jwk === found.jwk) throw joseFailure(err)
    return verifyWith(jwt, again, plan, ctx).catch((retryErr: unknown) => {
      throw joseFailure(retryErr)
    })
  }
}

/**
 * The issuer's JWK for `kid`. Discovery's own codes stand (`issuer_missing`, `issuer_mismatch`,
 * `unknown_key`); an issuer whose keys cannot be fetched makes the JWT unverifiable: `invalid_jwt`
 * rather than `invalid_key`, which would blame the agent's key.
 */
async function issuerJwk(plan: SignaturePlan, ctx: ResolveContext, refresh: boolean): Promise<FoundKey> {
  try {
    return await ctx.services.keySource.serverKey(plan.query, fetchPolicyFor(ctx.config), { refresh })
  } catch (err) {
    if (err instanceof SignatureError && err.code === 'invalid_key') throw new SignatureError('invalid_jwt', err.message)
    throw err
  }
}

async function verifyWith(jwt: string, found: FoundKey, plan: SignaturePlan, ctx: ResolveContext): Promise<JWTPayload> {
  const key = await issuerKey(found, plan, ctx)
  const { payload } = await jwtVerify(jwt, key.key, {
    algorithms: [plan.alg],
    currentDate: new Date(ctx.now() * 1000),
    clockTolerance: 0,
  })
  return payload
}

/** The issuer's JWK as a key; any fault in it means the JWT cannot be verified: `invalid_jwt`. */
async function issuerKey(found: FoundKey, plan: SignaturePlan, ctx: ResolveContext): Promise<VerifyKey> {
  let key: VerifyKey
  try {
    key = await ctx.services.importer.verifyKey(found.jwk, { algorithms: ctx.config.signatures.algorithms, legacy: plan.legacy })
  } catch (err) {
    if (err instanceof SignatureError) throw new SignatureError('invalid_jwt', `the issuer key is unusable: ${err.message}`)
    throw err
  }
  const sameAlg = key.alg === plan.alg || (plan.legacy && plan.alg === 'EdDSA' && key.alg === 'Ed25519')
  if (!sameAlg) throw new SignatureError('invalid_jwt', 'the JWT alg does not match its issuer key')
  return key
}

/** jose's verdicts as Signature-Error codes; nothing from the token is repeated. */
function joseFailure(err: unknown): unknown {
  if (err instanceof SignatureError) return err
  if (err instanceof errors.JWTExpired) return new SignatureError('expired_jwt', 'the JWT has expired')
  if (err instanceof errors.JWSSignatureVerificationFailed) return new SignatureError('invalid_jwt', 'the JWT signature does not verify')
  if (err instanceof errors.JWTClaimValidationFailed) {
    return new SignatureError('invalid_jwt', `the JWT claim ${err.claim} is not valid (${err.reason})`)
  }
  return new SignatureError('invalid_jwt', 'the JWT is malformed')
}

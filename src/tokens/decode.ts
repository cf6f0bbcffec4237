import { decodeJwt, decodeProtectedHeader, type JWTPayload, type ProtectedHeaderParameters } from 'jose'
import { SignatureError } from '../errors.js'

/**
 * Unverified decoding, used only to choose how to verify (typ, alg, kid, iss, dwk) before any
 * fetch. Nothing decoded here is trusted until the signature is checked. Any failure is
 * `invalid_jwt`; the message never repeats the token.
 */

/** A compact JWS: three base64url parts, at most this long (a token rides in a header). */
const MAX_TOKEN_LENGTH = 16_384
const COMPACT = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/

export function decodeHeader(jwt: string): ProtectedHeaderParameters {
  if (jwt.length > MAX_TOKEN_LENGTH || !COMPACT.test(jwt)) throw invalid('not a compact JWS')
  try {
    return decodeProtectedHeader(jwt)
  } catch {
    throw invalid('the JWT header does not decode')
  }
}

export function decodeClaims(jwt: string): JWTPayload {
  try {
    return decodeJwt(jwt)
  } catch {
    throw invalid('the JWT claims do not decode')
  }
}

function invalid(detail: string): SignatureError {
  return new SignatureError('invalid_jwt', detail)
}

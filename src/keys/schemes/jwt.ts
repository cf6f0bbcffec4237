import { SignatureError } from '../../errors.js'
import { verifyToken } from '../../tokens/index.js'
import type { KeyResolver } from '../types.js'

/**
 * `jwt` (Signature-Key -08 §3.5): the JWT's issuer vouches for `cnf.jwk`, which must sign the
 * request. The token's `typ` picks the validator (src/tokens); the resolved key is `cnf.jwk`, so
 * the HTTP signature check that follows proves possession.
 *
 * A member without a `jwt` parameter is `invalid_signature`, as the aauth-go signature-key
 * vectors expect (`sig=jwt`).
 */
export const resolveJwt: KeyResolver = async (member, ctx) => {
  const jwt = member.params.get('jwt')
  if (typeof jwt !== 'string' || jwt === '') {
    throw new SignatureError('invalid_signature', 'the jwt scheme needs a jwt parameter')
  }
  return verifyToken(jwt, ctx)
}

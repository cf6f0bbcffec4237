import { SignatureError } from '../../errors.js'
import { PRIVATE_MEMBERS } from '../jwk.js'
import type { KeyResolver } from '../types.js'
import { schemeIdentity } from './identity.js'
import { isLegacy, optionalParam } from './params.js'

/** JWK members an `hwk` member may carry (Signature-Key §3.1): the public key and its `alg`. */
const MEMBERS = ['kty', 'crv', 'x', 'y', 'n', 'e', 'alg'] as const

/**
 * `hwk`: the public key inline (Signature-Key -08 §3.1). `alg` is REQUIRED and `kid` MUST NOT
 * appear; the January-2026 form has no `alg`, and an OKP/Ed25519 key then means Ed25519.
 * Anyone can make a key, so this proves only possession: level `pseudonymous`.
 */
export const resolveHwk: KeyResolver = async (member, ctx) => {
  if (member.params.has('kid')) throw new SignatureError('invalid_key', 'hwk must not carry kid')
  const jwk: Record<string, unknown> = {}
  for (const name of MEMBERS) {
    const value = optionalParam(member, name)
    if (value !== undefined) jwk[name] = value
  }
  // Private members are carried over whatever their type, so the one JWK check refuses them
  // (`invalid_key`, as for a private `cnf.jwk`): an agent that sends its private key is broken.
  for (const name of PRIVATE_MEMBERS) {
    if (member.params.has(name)) jwk[name] = member.params.get(name)
  }
  const { signatures } = ctx.config
  const legacy = isLegacy(member, signatures.legacy)
  const key = await ctx.services.importer.verifyKey(jwk, { algorithms: signatures.algorithms, legacy })
  return { key, identity: schemeIdentity('hwk', 'pseudonymous') }
}

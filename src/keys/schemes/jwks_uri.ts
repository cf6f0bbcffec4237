import { SignatureError } from '../../errors.js'
import { fetchPolicyFor } from '../fetch.js'
import { type TrustList, isIssuerOrigin, isTrusted } from '../trust.js'
import type { KeyResolver } from '../types.js'
import { schemeIdentity } from './identity.js'
import { isLegacy, requiredParam } from './params.js'

/** The trust list for each metadata document a server may sign under (AAuth -11 §11.2); `self-jwt` reads it too. */
export const ROLE_BY_DOCUMENT: Readonly<Record<string, TrustList>> = {
  'aauth-agent.json': 'agent_providers',
  'aauth-person.json': 'person_servers',
  'aauth-access.json': 'access_servers',
}

/**
 * `jwks_uri`: a server signing in its own right (Signature-Key §3.3; AAuth "Keying Material").
 * Fetch `{id}/.well-known/{dwk}`, require its `issuer` to equal `id` byte for byte, follow its
 * `jwks_uri`, take the key with `kid`. Only ids trusted for the role `dwk` names are fetched.
 * The id is the caller's identity: level `identified`, reported as `agent`.
 */
export const resolveJwksUri: KeyResolver = async (member, ctx) => {
  const id = requiredParam(member, 'id')
  const dwk = requiredParam(member, 'dwk')
  const kid = requiredParam(member, 'kid')
  const { config } = ctx
  const legacy = isLegacy(member, config.signatures.legacy)
  const role = Object.hasOwn(ROLE_BY_DOCUMENT, dwk) ? ROLE_BY_DOCUMENT[dwk] : undefined
  if (role === undefined) throw new SignatureError('invalid_key', 'jwks_uri dwk names no known AAuth metadata document')
  if (!isIssuerOrigin(id, config, legacy)) throw new SignatureError('invalid_key', 'jwks_uri id is not a server identifier')
  if (!isTrusted(id, [role], config)) {
    throw new SignatureError('invalid_key', 'jwks_uri id is not a trusted issuer').withInternal(`id ${id} is not in trust.${role}`)
  }
  const found = await ctx.services.keySource.serverKey(
    { issuer: id, document: dwk, issuerMembers: ['issuer'], kid, trusted: (origin) => isTrusted(origin, [role], config) },
    fetchPolicyFor(config),
  )
  const key = await ctx.services.importer.verifyKey(found.jwk, { algorithms: config.signatures.algorithms, legacy })
  return { key, identity: schemeIdentity('jwks_uri', 'identified', id) }
}

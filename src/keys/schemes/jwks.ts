import { SignatureError } from '../../errors.js'
import type { SignatureKeyMember } from '../../signature/types.js'
import { fetchPolicyFor } from '../fetch.js'
import { type TrustList, isIssuerOrigin, isTrusted, originOf } from '../trust.js'
import type { FoundKey, KeyResolver, ResolveContext } from '../types.js'
import { schemeIdentity } from './identity.js'
import { isLegacy, optionalParam, requiredParam } from './params.js'

const ANY_ROLE: readonly TrustList[] = ['agent_providers', 'person_servers', 'access_servers']

/** January-2026 well-known documents: the member naming the issuer, and who may publish it. */
const LEGACY_DOCUMENTS: Readonly<Record<string, { members: readonly string[]; trust: readonly TrustList[] }>> = {
  'aauth-agent': { members: ['agent', 'issuer'], trust: ['agent_providers'] },
  'aauth-issuer': { members: ['issuer'], trust: ['person_servers', 'access_servers'] },
}

/**
 * `jwks` (Signature-Key -08 §3.4): `url` is a JWKS and is itself the identity (byte equality,
 * no normalisation); take the key with `kid`. January-2026 form: `id` + `kid` + optional
 * `well-known`; with it, fetch `{id}/.well-known/{well-known}` and follow its `jwks_uri`,
 * without it `id` is the JWKS URL. Only origins in a trust list are fetched. Level `identified`.
 */
export const resolveJwks: KeyResolver = async (member, ctx) => {
  const legacy = isLegacy(member, ctx.config.signatures.legacy)
  const kid = requiredParam(member, 'kid')
  const identity = legacy ? requiredParam(member, 'id') : requiredParam(member, 'url')
  const wellKnown = legacy ? optionalParam(member, 'well-known') : undefined
  const found = wellKnown === undefined
    ? await jwksAt(identity, kid, ctx)
    : await legacyDiscovery(identity, wellKnown, kid, member, ctx)
  const rules = { algorithms: ctx.config.signatures.algorithms, legacy }
  const key = await ctx.services.importer.verifyKey(found.jwk, rules)
  return { key, identity: schemeIdentity('jwks', 'identified', identity) }
}

async function jwksAt(url: string, kid: string, ctx: ResolveContext): Promise<FoundKey> {
  const origin = originOf(url)
  if (origin === undefined || !url.startsWith(origin)) throw new SignatureError('invalid_key', 'jwks url is not an http(s) URL')
  if (!isTrusted(origin, ANY_ROLE, ctx.config)) {
    throw new SignatureError('invalid_key', 'jwks url is not on a trusted origin').withInternal(`${origin} is in no trust list`)
  }
  return ctx.services.keySource.jwksKey(url, kid, fetchPolicyFor(ctx.config))
}

async function legacyDiscovery(
  id: string, wellKnown: string, kid: string, member: SignatureKeyMember, ctx: ResolveContext,
): Promise<FoundKey> {
  const doc = Object.hasOwn(LEGACY_DOCUMENTS, wellKnown) ? LEGACY_DOCUMENTS[wellKnown] : undefined
  if (doc === undefined) throw new SignatureError('invalid_key', `${member.scheme} well-known names no known document`)
  const { config } = ctx
  if (!isIssuerOrigin(id, config, true)) throw new SignatureError('invalid_key', 'jwks id is not an issuer origin')
  if (!isTrusted(id, doc.trust, config)) {
    throw new SignatureError('invalid_key', 'jwks id is not a trusted issuer').withInternal(`id ${id} is not in ${doc.trust.map((t) => `trust.${t}`).join(' or ')}`)
  }
  return ctx.services.keySource.serverKey(
    { issuer: id, document: wellKnown, issuerMembers: doc.members, kid, trusted: (o) => isTrusted(o, doc.trust, config) },
    fetchPolicyFor(config),
  )
}

import type { CompiledRoute } from '../routes/route.js'
import { RequirementError } from '../errors.js'
import { mintResourceToken } from '../resource/resource-token.js'
import type { RequestContext } from './context.js'

/** Token types that prove a person (`sub`) and so allow minting a resource token (AAuth -11 RS-30). */
const PERSON_OR_AUTH = new Set(['aa-person+jwt', 'aa-auth+jwt', 'auth+jwt'])

/**
 * The challenge for an `authorized` route when the identity is real but not enough
 * (AAuth -11 §6): an agent token alone needs a person token first; a person token, or an auth
 * token lacking a scope (step-up), gets a freshly minted resource token naming the scopes the
 * route needs, to take to the person server (or this resource's access server).
 */
export async function authorizedChallenge(
  ctx: RequestContext,
  route: CompiledRoute,
  missing: readonly string[] = route.scopes,
): Promise<RequirementError> {
  const id = ctx.identity
  if (!PERSON_OR_AUTH.has(id.tokenType) || id.user === '') {
    return new RequirementError('person-token', 'this route needs a person; present a person token to be granted access')
  }
  // A step-up asks for what the token already had plus what is missing: the grant replaces it.
  const scope = [...new Set([...id.scope, ...route.scopes, ...missing])]
  const token = await mintResourceToken(ctx.snapshot.resource, id, scope, Math.floor(Date.now() / 1000))
  const what = id.tokenType === 'aa-person+jwt' ? 'an auth token' : `an auth token with scope ${missing.join(' ')}`
  return new RequirementError('auth-token', `this route needs ${what}; take the resource token to your person server`, token)
}

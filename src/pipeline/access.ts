import type { CompiledRoute } from '../routes/route.js'
import { RequirementError } from '../errors.js'
import { deferChallenge } from '../resource/deferred.js'
import type { IdentityLevel } from '../identity.js'
import { routeAccess } from '../resource/access-mode.js'
import type { RequestContext } from './context.js'
import { routeOf } from './route.js'
import { authorizedChallenge, provesPerson } from './challenge.js'

const HAVE: Record<IdentityLevel, number> = { none: 0, pseudonymous: 1, identified: 2, authorized: 3 }

/**
 * Compares what the request proved with the route's access mode (AAuth -11 §4.2.3, the ladder
 * in docs/access-modes.md; docs/configuration.md `routes[].access`). A valid identity below what the route asks is a 401 with the
 * `AAuth-Requirement` that leads the agent one step up, never a `Signature-Error`: its
 * signature was fine.
 *  - `pseudonymous`: any valid signature;
 *  - `agent-token`: an agent token (or a `jwks_uri` / `jwks` server identity; a person or auth
 *    token also names who signs, docs/replay-and-revocation.md);
 *  - `person-token`: the person, from a person token or an auth token (-11 "Person Token
 *    Required"); an agent token alone is asked for a person token;
 *  - `auth-token`: an auth token covering the route's scopes (-11 "Auth Token Required");
 *  - `session-token`: a session from the resource's own grant (-11 "AAuth-Access Response
 *    Header"). Until the gateway issues sessions, a missing session takes the resource-token
 *    path of the authorization endpoint (-11 "Response with Resource Token"), which is the one
 *    -11 "AAuth-Capabilities" says to prefer for agents that cannot drive an interaction: so it
 *    is enforced as `auth-token`, and `requirement=interaction` is never sent.
 */
export async function checkAccess(ctx: RequestContext): Promise<void> {
  await checkRouteAccess(ctx, routeOf(ctx), true)
}

/**
 * The access check of `route`; with `defer`, an `auth-token` challenge takes its `202` form
 * where the route and the agent allow it (src/resource/deferred.ts). A poll of a pending URL
 * checks the held request's route without deferring again.
 */
export async function checkRouteAccess(ctx: RequestContext, route: CompiledRoute, defer: boolean): Promise<void> {
  const challenge = async (missing?: readonly string[]): Promise<RequirementError> => {
    const c = await authorizedChallenge(ctx, route, missing)
    return defer ? deferChallenge(ctx, route, c) : c
  }
  const mode = routeAccess(route.access)
  const { level } = ctx.identity
  if (mode === 'open') return
  if (mode === 'pseudonymous') {
    if (level === 'none') throw agentTokenRequired(route.access, level)
    return
  }
  if (HAVE[level] < HAVE.identified) throw agentTokenRequired(route.access, level)
  if (mode === 'agent-token') return
  if (mode === 'person-token') {
    if (!provesPerson(ctx.identity)) {
      throw new RequirementError('person-token', 'this route needs the person: present a person token (or an auth token)')
    }
    return
  }
  if (level !== 'authorized') throw await challenge()
  // Four-party: only this resource's own access server grants here (AAuth -11 "Trust Posture");
  // an auth token from a person server is sent back with a resource token for the AS.
  const accessServer = ctx.snapshot.resource.accessServer
  if (accessServer !== undefined && ctx.identity.issuer !== accessServer) throw await challenge()
  const granted = new Set(ctx.identity.scope)
  const missing = route.scopes.filter((s) => !granted.has(s))
  if (missing.length > 0) throw await challenge(missing)
}

function agentTokenRequired(mode: string, level: IdentityLevel): RequirementError {
  return new RequirementError('agent-token', `this route needs ${mode} access; the request proved ${level}`, undefined, level === 'none')
}

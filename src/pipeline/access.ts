import { RequirementError } from '../errors.js'
import type { AccessLevel, IdentityLevel } from '../identity.js'
import type { RequestContext } from './context.js'
import { routeOf } from './route.js'
import { authorizedChallenge } from './challenge.js'

const HAVE: Record<IdentityLevel, number> = { none: 0, pseudonymous: 1, identified: 2, authorized: 3 }
// `session-token` (AAuth -11 resource-managed access): the session stage (./session.ts) already
// decided; a request that reaches here on such a route holds a session.
const NEED: Record<AccessLevel, number> = { open: 0, pseudonymous: 1, identified: 2, authorized: 3, 'session-token': 3 }

/**
 * Compares what the request proved with what the route asks (docs/configuration.md `routes[].access`, the AAuth ladder).
 * A valid identity below the route's level is a 401 with the `AAuth-Requirement` that leads
 * the agent one step up, never a `Signature-Error`: its signature was fine.
 */
export async function checkAccess(ctx: RequestContext): Promise<void> {
  const route = routeOf(ctx)
  const { level } = ctx.identity
  if (HAVE[level] < NEED[route.access]) {
    if (route.access === 'authorized' && HAVE[level] >= HAVE.identified) throw await authorizedChallenge(ctx, route)
    throw new RequirementError('agent-token', `this route needs ${route.access} access; the request proved ${level}`, undefined, level === 'none')
  }
  if (route.access === 'authorized') {
    // Four-party: only this resource's own access server grants here (AAuth -11 "Trust Posture");
    // an auth token from a person server is sent back with a resource token for the AS.
    const accessServer = ctx.snapshot.resource.accessServer
    if (accessServer !== undefined && ctx.identity.issuer !== accessServer) throw await authorizedChallenge(ctx, route)
    const granted = new Set(ctx.identity.scope)
    const missing = route.scopes.filter((s) => !granted.has(s))
    if (missing.length > 0) throw await authorizedChallenge(ctx, route, missing)
  }
}

import type { AccessLevel } from '../identity.js'

/** The access modes of AAuth -11 §4.2.3 the gateway enforces, as `access_mode` names them. */
export type AccessMode = 'agent-token' | 'person-token' | 'auth-token' | 'session-token'

/** What a route enforces: no signature needed, any signature (`hwk` too), or an AAuth mode. */
export type RouteAccess = 'open' | 'pseudonymous' | AccessMode

/** The pre--11 names (docs/access-modes.md): same behaviour, new spelling. */
const ALIASES: Partial<Record<AccessLevel, RouteAccess>> = {
  identified: 'agent-token',
  authorized: 'auth-token',
}

/** A route's `access` as the mode the access stage enforces. */
export function routeAccess(access: AccessLevel): RouteAccess {
  return ALIASES[access] ?? (access as RouteAccess)
}

/**
 * The `access_mode` a route advertises in the resource metadata (-11 "Resource Metadata"), or
 * `undefined` for an open route (no mode: nothing is asked). A `pseudonymous` route takes any
 * signature, so an AAuth agent's agent token is enough there: it advertises `agent-token`.
 */
export function advertisedMode(access: AccessLevel): AccessMode | undefined {
  const mode = routeAccess(access)
  if (mode === 'open') return undefined
  return mode === 'pseudonymous' ? 'agent-token' : mode
}

/** Whether a route's challenges mint resource tokens (so `resource.signing_key` is needed). */
export function mintsResourceTokens(access: AccessLevel): boolean {
  const mode = routeAccess(access)
  return mode === 'auth-token' || mode === 'session-token'
}

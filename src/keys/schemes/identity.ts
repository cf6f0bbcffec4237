import type { IdentityLevel, SchemeName } from '../../identity.js'
import type { ResolvedKey } from '../types.js'

/**
 * The identity a key scheme establishes by itself (no token): `hwk` is pseudonymous; a
 * `jwks_uri` id or a `jwks` URL identifies the caller, and is reported as `agent` (README "Policies": `aauth.agent`).
 */
export function schemeIdentity(scheme: SchemeName, level: IdentityLevel, agent = ''): ResolvedKey['identity'] {
  return Object.freeze({
    level,
    scheme,
    tokenType: '',
    agent,
    agentDelegate: '',
    user: '',
    issuer: '',
    scope: Object.freeze([]),
    delegation: Object.freeze([]),
    claims: Object.freeze({}),
  })
}

import { randomUUID } from 'node:crypto'
import { SignJWT } from 'jose'
import type { ResourceSettings } from './settings.js'
import type { Identity } from '../identity.js'

/** Resource tokens live briefly: AAuth -11 §6.7 says SHOULD be at most 5 minutes. */
export const RESOURCE_TOKEN_LIFETIME_SECONDS = 300

/**
 * Mints an `aa-resource+jwt` (AAuth -11 §6.7) for the agent to take to its person server (or,
 * four-party, to this resource's access server). Only called once a person or auth token was
 * verified on this request: the claims `ps`, `sub` and `presented_jti` come from it, and
 * `agent_jkt` binds the grant to the key that signed the request.
 */
export async function mintResourceToken(
  resource: ResourceSettings,
  presented: Identity,
  scope: readonly string[],
  now: number,
  options: { loginHint?: string | undefined } = {},
): Promise<string> {
  const key = resource.signingKey
  if (!key) throw new Error('resource.signing_key is required to mint resource tokens')
  const claims = presented.claims
  const ps = typeof claims.ps === 'string' ? claims.ps : presented.issuer
  const payload: Record<string, unknown> = {
    iss: resource.issuer,
    dwk: 'aauth-resource.json',
    aud: resource.accessServer ?? ps,
    ps,
    sub: presented.user,
    agent_jkt: presented.thumbprint,
    scope: scope.join(' '),
  }
  if (typeof claims.jti === 'string') {
    payload.presented_jti = claims.jti
    // -11 renamed `person_token_jti` to `presented_jti` (same value). Person servers built before
    // the rename (e.g. @hellocoop/mockin 2.0) still require the old name, so a token minted on a
    // person token also carries it. On a step-up the jti is an auth token's: no alias then.
    if (presented.tokenType === 'aa-person+jwt') payload.person_token_jti = claims.jti
  }
  for (const copied of ['mission_s256', 'tenant'] as const) {
    if (typeof claims[copied] === 'string') payload[copied] = claims[copied]
  }
  // Passed unchanged by the agent to its person server (-11 §6.7.1); src/resource/login-hint.ts.
  if (options.loginHint !== undefined) payload.login_hint = options.loginHint
  return new SignJWT(payload)
    .setProtectedHeader({ alg: key.alg, typ: 'aa-resource+jwt', kid: key.kid })
    .setJti(randomUUID())
    .setIssuedAt(now)
    .setExpirationTime(now + RESOURCE_TOKEN_LIFETIME_SECONDS)
    .sign(key.privateKey)
}

import { checkPersonServer, delegationChain, optionalString, requireAudience, requireString, scopeList } from './claims.js'
import type { TokenKind } from './types.js'

/**
 * `aa-auth+jwt` (AAuth -11 §9.4 "Auth Token"): what is authorized. Issued by a Person Server
 * (`dwk: aauth-person.json`, trusted via `trust.person_servers`) or an Access Server
 * (`dwk: aauth-access.json`, via `trust.access_servers`). Checks: `aud` is this resource; `sub`
 * present; `ps` a server identifier when present; lifetime <= 1 h. No `agent`, no `act` in -11.
 * Level `authorized`; `user` = `sub`; `scope` split on spaces.
 */
export const authToken: TokenKind = {
  typ: 'aa-auth+jwt',
  vintage: 'current',
  discovery: {
    kind: 'dwk',
    documents: { 'aauth-person.json': ['person_servers'], 'aauth-access.json': ['access_servers'] },
  },
  requireIat: true,
  maxLifetime: 3600,
  identify(claims, ctx) {
    requireAudience(claims, ctx.config.issuer)
    const sub = requireString(claims, 'sub')
    checkPersonServer(claims, ctx.config)
    return {
      level: 'authorized',
      agent: '',
      agentDelegate: '',
      user: sub,
      issuer: claims.iss as string,
      scope: scopeList(claims),
      delegation: Object.freeze([]),
    }
  },
}

/**
 * January-2026 `auth+jwt` (docs/protocol.md "Wire vintages"): keys via `{iss}/.well-known/aauth-issuer`; the
 * issuer may be listed in `person_servers` or `access_servers`. Carries `agent`,
 * `agent_delegate`, `scope`, and perhaps an RFC 8693 `act` chain (reported current actor first).
 * Lifetime <= 1 h, as for `aa-auth+jwt`; without `iat`, `exp` may be at most that (plus the
 * window) ahead.
 */
export const legacyAuthToken: TokenKind = {
  typ: 'auth+jwt',
  vintage: 'legacy',
  discovery: {
    kind: 'fixed',
    document: 'aauth-issuer',
    issuerMembers: ['issuer'],
    trust: ['person_servers', 'access_servers'],
  },
  requireIat: false,
  // Not in the January-2026 text; the current auth token's bound, so a legacy token (and its
  // revocation, docs/replay-and-revocation.md) is never held longer than a current one.
  maxLifetime: 3600,
  identify(claims, ctx) {
    requireAudience(claims, ctx.config.issuer)
    return {
      level: 'authorized',
      agent: optionalString(claims, 'agent'),
      agentDelegate: optionalString(claims, 'agent_delegate'),
      user: optionalString(claims, 'sub'),
      issuer: claims.iss as string,
      scope: scopeList(claims),
      delegation: delegationChain(claims),
    }
  },
}

import { invalidJwt, requireAudience, requireString } from './claims.js'
import type { TokenKind } from './types.js'

/**
 * `aa-person+jwt`, `dwk: aauth-person.json` (AAuth -11 §7.1.4, §11.5.2 "Person Token"): which
 * person, as `(iss, sub)`; no authorization. Checks: `aud` is this resource; `sub` present;
 * lifetime <= 1 h; no `scope` or `account` (the draft says MUST NOT contain and names no verifier
 * action; refusing is our choice, as the aauth-go vectors do). Level `identified`, `user` = `sub`.
 *
 * Alone, it satisfies `access: identified`: the drafts' "person identity" access mode has the
 * agent sign with it in place of its agent token, the person server issued it on a request
 * signed under the agent token, and `cnf` binds it to that agent's key, so a trusted server
 * vouches for the signing key. It names no agent (no such claim): `aauth.agent` is empty, and a
 * policy that needs the agent must ask for an agent token. See docs/replay-and-revocation.md.
 */
export const personToken: TokenKind = {
  typ: 'aa-person+jwt',
  vintage: 'current',
  discovery: { kind: 'dwk', documents: { 'aauth-person.json': ['person_servers'] } },
  requireIat: true,
  maxLifetime: 3600,
  identify(claims, ctx) {
    requireAudience(claims, ctx.config.issuer)
    const sub = requireString(claims, 'sub')
    if (claims.scope !== undefined || claims.account !== undefined) {
      throw invalidJwt('a person token must not carry scope or account')
    }
    return {
      level: 'identified',
      agent: '',
      agentDelegate: '',
      user: sub,
      issuer: claims.iss as string,
      scope: Object.freeze([]),
      delegation: Object.freeze([]),
    }
  },
}

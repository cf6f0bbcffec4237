import { checkPersonServer, invalidJwt, isAgentIdentifier, optionalString, requireString } from './claims.js'
import type { Claims, TokenIdentity, TokenKind } from './types.js'

/**
 * Agent tokens: which agent is calling. Issued by an Agent Provider; `iss` is the agent server
 * (reported as `agent`) and `sub` the agent instance (reported as `agent_delegate`).
 */

function agentIdentity(claims: Claims, sub: string): TokenIdentity {
  const iss = claims.iss as string
  return {
    level: 'identified',
    agent: iss,
    agentDelegate: sub,
    user: '',
    issuer: iss,
    scope: Object.freeze([]),
    delegation: Object.freeze([]),
  }
}

/**
 * `aa-agent+jwt`, `dwk: aauth-agent.json` (AAuth -11 §5.1 "Agent Token"). Resource checks beyond
 * the common ones: `sub` present; `ps`, if present, a server identifier; `parent_agent`, if
 * present, an agent identifier. The lifetime SHOULD (not MUST) be <= 24 h, so it is not enforced.
 */
export const agentToken: TokenKind = {
  typ: 'aa-agent+jwt',
  vintage: 'current',
  discovery: { kind: 'dwk', documents: { 'aauth-agent.json': ['agent_providers'] } },
  requireIat: true,
  identify(claims, ctx) {
    const sub = requireString(claims, 'sub')
    checkPersonServer(claims, ctx.config)
    if (claims.parent_agent !== undefined && !isAgentIdentifier(claims.parent_agent)) {
      throw invalidJwt('the parent_agent claim is not an agent identifier')
    }
    return agentIdentity(claims, sub)
  },
}

/**
 * January-2026 `agent+jwt` (docs/protocol.md "Wire vintages"): header `alg: EdDSA`, keys without
 * `alg`, no `iat`/`jti`/`dwk`; keys via `{iss}/.well-known/aauth-agent`, whose `agent` member
 * names the issuer. `sub` is the delegate id.
 */
export const legacyAgentToken: TokenKind = {
  typ: 'agent+jwt',
  vintage: 'legacy',
  discovery: { kind: 'fixed', document: 'aauth-agent', issuerMembers: ['agent', 'issuer'], trust: ['agent_providers'] },
  requireIat: false,
  identify: (claims) => agentIdentity(claims, optionalString(claims, 'sub')),
}

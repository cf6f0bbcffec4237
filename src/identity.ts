/**
 * The verified identity of a request: what the CEL variables `aauth.*` read (README "Policies") and
 * what the backend receives as `X-AAuth-*` headers (docs/headers-and-errors.md).
 */

/**
 * What a route's `access` may say: the AAuth -11 access modes (§4.2.3 "Resource Access Modes",
 * `access_mode` in "Resource Metadata") and the gateway's own names from before -11, kept
 * working (`identified` is `agent-token`, `authorized` is `auth-token`; docs/access-modes.md).
 */
export const ACCESS_LEVELS = [
  'open',
  'pseudonymous',
  'identified',
  'authorized',
  'agent-token',
  'person-token',
  'auth-token',
  'session-token',
] as const
export type AccessLevel = (typeof ACCESS_LEVELS)[number]

/** What a request proved: `none` when unsigned. */
export type IdentityLevel = 'none' | 'pseudonymous' | 'identified' | 'authorized'

export type SchemeName = 'hwk' | 'jkt-jwt' | 'jwt' | 'jwks_uri' | 'jwks' | 'self-jwt' | 'x509'

export interface Identity {
  level: IdentityLevel
  /** The Signature-Key scheme, `''` when unsigned. */
  scheme: SchemeName | ''
  /** The JWT `typ`, `''` when no token was presented. */
  tokenType: string
  /** Agent server (`iss` of an agent token), the `jwks_uri` id / `jwks` url, or an auth token's `agent`. */
  agent: string
  /** Agent token `sub`, or an auth token's `agent_delegate`. */
  agentDelegate: string
  /** `sub` of a person or auth token. */
  user: string
  /** `iss` of the token presented. */
  issuer: string
  scope: readonly string[]
  /** The RFC 8693 `act` chain, current actor first. */
  delegation: readonly Readonly<Record<string, unknown>>[]
  /** RFC 7638 thumbprint of the key that signed the request. */
  thumbprint: string
  /** Every claim of the token presented (empty when none). */
  claims: Readonly<Record<string, unknown>>
}

export const ANONYMOUS: Identity = Object.freeze({
  level: 'none',
  scheme: '',
  tokenType: '',
  agent: '',
  agentDelegate: '',
  user: '',
  issuer: '',
  scope: Object.freeze([]),
  delegation: Object.freeze([]),
  thumbprint: '',
  claims: Object.freeze({}),
})

import { agentToken, legacyAgentToken } from './agent.js'
import { authToken, legacyAuthToken } from './auth.js'
import { personToken } from './person.js'
import type { TokenKind } from './types.js'

/**
 * The token types accepted in `Signature-Key: jwt`, by `typ` (AAuth -11 §11.5; RFC 8725 §3.11:
 * the type is checked before anything else). Any other `typ`, `aa-resource+jwt` included, is
 * `invalid_jwt`. A new type is one file and one line here.
 */
export const TOKEN_KINDS: Readonly<Record<string, TokenKind>> = Object.freeze({
  [agentToken.typ]: agentToken,
  [personToken.typ]: personToken,
  [authToken.typ]: authToken,
  [legacyAgentToken.typ]: legacyAgentToken,
  [legacyAuthToken.typ]: legacyAuthToken,
})

import { SignatureError } from '../errors.js'
import { componentValue, quoted } from './fields.js'
import { DERIVED_COMPONENTS, isDerivedComponent } from './derived.js'
import type { ParsedSignature, SignedRequest } from './types.js'

/**
 * Builds the RFC 9421 §2.5 signature base: one line `"<id>": <value>` LF per covered
 * component, in the order covered, then `"@signature-params": <params>` with no trailing LF.
 *
 * Byte-exactness is the whole point, so:
 *  - `@signature-params` is the `Signature-Input` member exactly as received (never
 *    re-serialised: re-ordering parameters is a known interop break);
 *  - derived components come from the *public* request (`req.authority`, `req.path`), not the
 *    upstream one (RFC 9421 §2.2, docs/protocol.md "Signatures");
 *  - a field is its lines OWS-trimmed and joined with ", " (§2.1); `signature-key` is no
 *    exception: its raw field value, never a re-serialisation.
 *
 * Call `checkCoveredComponents` first: it refuses what this cannot compute. A covered field that
 * is absent is `invalid_input` (§2.5: "the signer MUST fail"; the verifier cannot rebuild it).
 */
export function buildSignatureBase(
  parsed: Pick<ParsedSignature, 'components' | 'signatureParams'>,
  req: SignedRequest,
): string {
  let base = ''
  for (const id of parsed.components) {
    base += `"${id}": ${componentOf(id, req)}\n`
  }
  return `${base}"@signature-params": ${parsed.signatureParams}`
}

function componentOf(id: string, req: SignedRequest): string {
  if (isDerivedComponent(id)) return DERIVED_COMPONENTS[id](req)
  if (id.startsWith('@')) {
    throw new SignatureError('invalid_input', `covered component ${quoted(id)} is not supported`)
  }
  const value = componentValue(req.headers[id])
  if (value === undefined) {
    throw new SignatureError('invalid_input', `covered header ${quoted(id)} is not in the request`)
  }
  return value
}

import { SignatureError } from '../errors.js'
import { isInnerList } from 'structured-headers'
import { isBlank, joinLines } from './fields.js'
import { decodeLegacySignature } from './legacy.js'
import { scanDictionary } from './scan.js'
import { tryParseDictionary } from './sf.js'
import { readSignatureInput } from './signature-input.js'
import { readSignatureKey } from './signature-key.js'
import type { ParsedSignature, SignedRequest } from './types.js'

export interface ParseOptions {
  /** Also accept the January-2026 wire format (docs/protocol.md "Wire vintages", config `signatures.legacy`). */
  legacy: boolean
}

/**
 * Reads `Signature-Input`, `Signature` and `Signature-Key` into one `ParsedSignature`
 * (RFC 9421 §4; Signature-Key draft §3; AAuth verification step 1).
 *
 * Returns `null` when none of the three is sent (an unsigned request: the route decides).
 * A field holding only whitespace counts as not sent. Otherwise it throws `SignatureError`,
 * never anything else:
 *  - some but not all three present: `invalid_signature` (AAuth -11 §11.3.4 step 1);
 *  - no label present in all three: `invalid_signature` (Signature-Key §3: a missing
 *    member fails that verification);
 *  - anything structurally broken, or a label repeated in any of the three (docs/protocol.md "Refused"):
 *    `invalid_input`.
 */
export function parseSignatureHeaders(
  headers: SignedRequest['headers'],
  opts: ParseOptions,
): ParsedSignature | null {
  const input = presentField(headers['signature-input'])
  const signature = presentField(headers['signature'])
  const key = presentField(headers['signature-key'])
  if (input === undefined && signature === undefined && key === undefined) return null
  if (input === undefined || signature === undefined || key === undefined) {
    throw new SignatureError('invalid_signature', 'Signature, Signature-Input and Signature-Key must all be sent')
  }
  // Raw members first: repeated labels are refused before a parser can hide them, and the
  // Signature-Input member is kept byte-exact for `@signature-params` (RFC 9421 §2.3).
  const inputMembers = scanDictionary(input, 'Signature-Input')
  const signatureMembers = scanDictionary(signature, 'Signature')
  const keyMembers = scanDictionary(key, 'Signature-Key')
  const label = selectLabel(inputMembers, signatureMembers, keyMembers)
  const facts = readSignatureInput(input, label)
  return {
    label,
    components: facts.components,
    signatureParams: inputMembers.get(label) as string,
    created: facts.created,
    expires: facts.expires,
    keyid: facts.keyid,
    signature: readSignature(signature, label, signatureMembers.get(label) as string, opts.legacy),
    key: readSignatureKey(key, label, keyMembers.size, keyMembers.get(label) as string, opts.legacy),
  }
}

function presentField(lines: SignedRequest['headers'][string]): string | undefined {
  const value = joinLines(lines)
  return isBlank(value) ? undefined : value
}

/**
 * The first `Signature-Input` label that also has `Signature` and `Signature-Key` members:
 * deterministic, and in the order the agent listed its signatures.
 */
function selectLabel(input: Map<string, string>, signature: Map<string, string>, key: Map<string, string>): string {
  for (const label of input.keys()) if (signature.has(label) && key.has(label)) return label
  throw new SignatureError(
    'invalid_signature',
    'no signature label is present in all of Signature-Input, Signature and Signature-Key',
  )
}

/**
 * The signature bytes for `label`: an RFC 8941 byte sequence (RFC 9421 §4.2), or under
 * `legacy`, when the field is not strict RFC 8941, unpadded base64url between colons.
 */
function readSignature(value: string, label: string, rawMember: string, legacy: boolean): Uint8Array {
  const dictionary = tryParseDictionary(value)
  if (dictionary === undefined) {
    if (legacy) return decodeLegacySignature(rawMember)
    throw new SignatureError('invalid_input', 'Signature is not a valid RFC 8941 dictionary')
  }
  const member = dictionary.get(label)
  if (member === undefined || isInnerList(member) || !(member[0] instanceof ArrayBuffer)) {
    throw new SignatureError('invalid_input', 'Signature member is not a byte sequence')
  }
  return new Uint8Array(member[0])
}

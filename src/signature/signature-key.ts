import { SignatureError } from '../errors.js'
import { Token, isInnerList } from 'structured-headers'
import { parseLegacySignatureKey } from './legacy.js'
import { plainValue, tryParseDictionary } from './sf.js'
import type { SignatureKeyMember } from './types.js'

/**
 * Reads the `Signature-Key` member selected by the label (Signature-Key draft §3):
 * `<label>=<scheme token>;<param>=<value>;...`, an RFC 8941 Dictionary.
 *
 * Error codes, where the draft is silent:
 *  - the field is not a valid Dictionary: `invalid_input`, like every structurally broken
 *    signature header. This includes the legacy parenthesised form when `legacy` is false:
 *    it is not RFC 8941, and the agent must change what it sends.
 *  - the member is well-formed but not a Token with parameters (`sig="jwt"`, an inner list):
 *    `invalid_signature`, as for a missing member ("that verification fails", §3), matching
 *    the aauth-go conformance vectors (signature-key.json).
 * Whether the scheme is known, and whether its parameters make a key, is `src/keys`' call.
 */
export function readSignatureKey(
  value: string,
  label: string,
  rawMember: string,
  legacy: boolean,
): SignatureKeyMember {
  const dictionary = tryParseDictionary(value)
  if (dictionary === undefined) {
    if (rawMember.startsWith('(')) {
      if (legacy) return parseLegacySignatureKey(rawMember)
      throw new SignatureError(
        'invalid_input',
        'Signature-Key uses the legacy parenthesised form, which this gateway does not accept',
      )
    }
    throw new SignatureError('invalid_input', 'Signature-Key is not a valid RFC 8941 dictionary')
  }
  const member = dictionary.get(label)
  if (member === undefined || isInnerList(member) || !(member[0] instanceof Token)) {
    throw new SignatureError('invalid_signature', 'the Signature-Key member for the label is not a scheme token')
  }
  const params = new Map<string, string | number | boolean>()
  for (const [name, item] of member[1]) params.set(name, plainValue(item))
  return { scheme: member[0].toString(), params, legacy: false }
}

import { SignatureError } from '../errors.js'
import { Token, isInnerList, type BareItem, type InnerList, type Item } from 'structured-headers'
import { quoted } from './fields.js'
import { tryParseDictionary } from './sf.js'
import type { ParsedSignature } from './types.js'

/** What the `Signature-Input` member for the selected label says (RFC 9421 §4.1, §2.3). */
export type SignatureInputFacts = Pick<ParsedSignature, 'components' | 'created' | 'expires' | 'keyid'>

const SIGNATURE_KEY_ONLY: readonly string[] = Object.freeze(['signature-key'])

function invalidInput(detail: string): SignatureError {
  return new SignatureError('invalid_input', detail)
}

/**
 * Reads the `Signature-Input` member for `label`, strictly parsed (RFC 8941 via
 * `structured-headers`). Every member must be an inner list of strings, and every signature
 * other than the selected one must cover `signature-key` (Signature-Key draft §3: "every
 * signature MUST cover it"; the selected one is checked, with the full `required_input`, by
 * `checkCoveredComponents`).
 *
 * A component with parameters (`"content-digest";sf`) is kept as `name;param...` so that
 * `checkCoveredComponents` can refuse it by name: the gateway computes none of them.
 * `created` is required (AAuth -11 §11.3 "Signature Parameters", docs/protocol.md); `expires` optional; `keyid`
 * optional and informational; `alg` ignored (RFC 9421 §3.3.7: the key's `alg` decides).
 */
export function readSignatureInput(value: string, label: string): SignatureInputFacts {
  const dictionary = tryParseDictionary(value)
  if (dictionary === undefined) throw invalidInput('Signature-Input is not a valid RFC 8941 dictionary')
  let selected: InnerList | undefined
  for (const [name, member] of dictionary) {
    if (!isInnerList(member)) throw invalidInput(`Signature-Input member ${quoted(name)} is not an inner list`)
    if (name === label) selected = member
    else if (!coversSignatureKey(member[0])) {
      throw new SignatureError('invalid_input', `signature ${quoted(name)} does not cover signature-key`, {
        requiredInput: SIGNATURE_KEY_ONLY,
      })
    }
  }
  if (selected === undefined) throw invalidInput('Signature-Input has no member for the label')
  const [items, params] = selected
  return {
    components: items.map(componentId),
    created: integerParam(params.get('created'), 'created', true) as number,
    expires: integerParam(params.get('expires'), 'expires', false),
    keyid: keyidParam(params.get('keyid')),
  }
}

function coversSignatureKey(items: readonly Item[]): boolean {
  for (const item of items) if (item[0] === 'signature-key' && item[1].size === 0) return true
  return false
}

function componentId(item: Item): string {
  const name = item[0]
  if (typeof name !== 'string') throw invalidInput('a covered component is not a quoted string')
  if (item[1].size === 0) return name
  let id = name
  for (const key of item[1].keys()) id += `;${key}`
  return id
}

function integerParam(value: BareItem | undefined, name: string, required: boolean): number | undefined {
  if (value === undefined) {
    if (required) throw invalidInput(`Signature-Input has no ${name} parameter`)
    return undefined
  }
  if (typeof value !== 'number' || !Number.isSafeInteger(value)) {
    throw invalidInput(`Signature-Input ${name} is not an integer`)
  }
  return value
}

function keyidParam(value: BareItem | undefined): string | undefined {
  if (value === undefined || typeof value === 'string') return value
  if (value instanceof Token) return value.toString()
  throw invalidInput('Signature-Input keyid is not a string')
}

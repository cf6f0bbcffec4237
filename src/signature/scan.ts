import { SignatureError } from '../errors.js'
import { BACKSLASH, COLON, COMMA, DQUOTE, EQUALS, LPAREN, PERCENT, RPAREN, SEMICOLON, SP } from './chars.js'
import { isOWS, quoted, trimOWS } from './fields.js'

/**
 * A raw, non-interpreting scanner for RFC 8941 Dictionary fields (§3.2).
 *
 * Why it exists: a strict parser keeps only the last of two members with the same key
 * (RFC 8941 §4.2.2), but the gateway refuses (docs/protocol.md "Refused") a label repeated in `Signature-Input`,
 * `Signature` or `Signature-Key`, and RFC 9421 §2.3 needs the `Signature-Input` member
 * byte-exact, as received, for `@signature-params`. So this splits the field at top-level
 * commas (respecting quoted strings, parentheses and `:byte sequences:`), and reports each
 * member's key and raw value. It also splits the legacy parenthesised `Signature-Key` form,
 * which no strict parser accepts. Interpretation is left to `structured-headers` (or
 * `legacy.ts`); every structural problem here is `invalid_input`.
 */


/** key = ( lcalpha / "*" ) *( lcalpha / DIGIT / "_" / "-" / "." / "*" ), RFC 8941 §3.1.2. */
function isKeyChar(code: number, first: boolean): boolean {
  if ((code >= 0x61 && code <= 0x7a) || code === 0x2a) return true
  return !first && ((code >= 0x30 && code <= 0x39) || code === 0x5f || code === 0x2d || code === 0x2e)
}

function malformed(field: string, what: string): SignatureError {
  return new SignatureError('invalid_input', `${field} is malformed: ${what}`)
}

/**
 * Splits `value` (field lines already joined with ", ") into members, in order.
 * Maps each key to its raw value: the text after `=`, OWS-trimmed, byte-exact otherwise
 * (`''` for a bare boolean member). Throws `invalid_input` on a repeated key.
 */
export function scanDictionary(value: string, field: string): Map<string, string> {
  const members = new Map<string, string>()
  const n = value.length
  let start = 0
  let depth = 0
  let i = 0
  while (i < n) {
    const c = value.charCodeAt(i)
    if (c === DQUOTE) {
      i = skipQuoted(value, i, field)
      continue
    }
    if (c === COLON && opensByteSequence(value, i)) {
      i = skipByteSequence(value, i, field)
      continue
    }
    if (c === LPAREN) {
      if (++depth > 1) throw malformed(field, 'nested parentheses')
    } else if (c === RPAREN) {
      if (--depth < 0) throw malformed(field, 'unbalanced ")"')
    } else if (c === COMMA && depth === 0) {
      addMember(members, value.slice(start, i), field)
      start = i + 1
    }
    i++
  }
  if (depth !== 0) throw malformed(field, 'unclosed "("')
  addMember(members, value.slice(start), field)
  return members
}

/** A byte sequence can only begin where a bare item begins: after "=", "(" or SP. */
function opensByteSequence(value: string, i: number): boolean {
  const prev = i > 0 ? value.charCodeAt(i - 1) : -1
  return prev === EQUALS || prev === LPAREN || prev === SP
}

/**
 * Index just past the closing quote of the sf-string opening at `i` (RFC 8941 §3.3.3), or of
 * the display string `%"..."` (RFC 9651 §3.3.8), in which a backslash is not an escape.
 */
function skipQuoted(value: string, i: number, field: string): number {
  const escapes = i === 0 || value.charCodeAt(i - 1) !== PERCENT
  for (let j = i + 1; j < value.length; j++) {
    const c = value.charCodeAt(j)
    if (c === BACKSLASH && escapes) j++
    else if (c === DQUOTE) return j + 1
  }
  throw malformed(field, 'unterminated quoted string')
}

/** Index just past the closing colon of the byte sequence opening at `i` (RFC 8941 §3.3.5). */
function skipByteSequence(value: string, i: number, field: string): number {
  const end = value.indexOf(':', i + 1)
  if (end === -1) throw malformed(field, 'unterminated byte sequence')
  return end + 1
}

function addMember(members: Map<string, string>, text: string, field: string): void {
  const member = trimOWS(text)
  let k = 0
  while (k < member.length && isKeyChar(member.charCodeAt(k), k === 0)) k++
  if (k === 0) throw malformed(field, member.length === 0 ? 'empty member' : 'a member has no valid key')
  const key = member.slice(0, k)
  const next = k < member.length ? member.charCodeAt(k) : -1
  if (next !== -1 && next !== EQUALS && next !== SEMICOLON) {
    throw malformed(field, `unexpected character after key ${quoted(key)}`)
  }
  if (members.has(key)) {
    throw new SignatureError('invalid_input', `label ${quoted(key)} appears more than once in ${field}`)
  }
  if (next === EQUALS && (k + 1 === member.length || isOWS(member.charCodeAt(k + 1)))) {
    throw malformed(field, `member ${quoted(key)} has no value`)
  }
  members.set(key, next === EQUALS ? member.slice(k + 1) : '')
}

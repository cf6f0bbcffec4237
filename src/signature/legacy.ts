import { SignatureError } from '../errors.js'
import type { SignatureKeyMember } from './types.js'
import { BACKSLASH, COLON, DQUOTE, EQUALS, LPAREN, RPAREN, SP, TOKEN_CHARS, charClass, isIn } from './chars.js'

/**
 * The January-2026 wire format (docs/protocol.md "Wire vintages"), accepted only under
 * `signatures.legacy: true`. This module only translates; it decides nothing about trust.
 *
 *  - `Signature-Key: sig1=(scheme=jwt jwt="eyJ...")`: a parenthesised, space-separated list of
 *    `name=value` pairs (values are tokens or quoted strings). Not RFC 8941: an inner list
 *    cannot hold `name=value`. Scheme names map 1:1 (`jwt`, `hwk`, `jwks`) and every other
 *    pair becomes a parameter under its own name (`well-known` stays `well-known`).
 *  - `Signature: sig1=:J7lsKp...-ZDA:`: unpadded base64url, which RFC 8941 §3.3.5 refuses.
 *
 * Every malformed input is `invalid_input`.
 */

/** Pair names as the legacy clients wrote them: `scheme`, `jwt`, `well-known`, `kid`, ... */
const NAME_CHARS = charClass('-_.0123456789abcdefghijklmnopqrstuvwxyz')
/** Both base64 alphabets (RFC 4648 §4 and §5): legacy clients sent the URL-safe one. */
const BASE64_CHARS = charClass('+/-_0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz')

function malformed(what: string): SignatureError {
  return new SignatureError('invalid_input', `legacy Signature-Key is malformed: ${what}`)
}

/** Reads one legacy `Signature-Key` member value, e.g. `(scheme=hwk kty="OKP" crv="Ed25519" x="...")`. */
export function parseLegacySignatureKey(raw: string): SignatureKeyMember {
  const end = raw.length - 1
  if (raw.charCodeAt(0) !== LPAREN || raw.charCodeAt(end) !== RPAREN) {
    throw malformed('expected "(name=value ...)"')
  }
  const params = new Map<string, string>()
  let i = 1
  for (;;) {
    while (i < end && raw.charCodeAt(i) === SP) i++
    if (i >= end) break
    const nameStart = i
    while (i < end && isIn(NAME_CHARS, raw.charCodeAt(i))) i++
    if (i === nameStart || raw.charCodeAt(i) !== EQUALS) throw malformed('expected name=value')
    const name = raw.slice(nameStart, i)
    const valueEnd = raw.charCodeAt(i + 1) === DQUOTE ? quotedEnd(raw, i + 1, end) : tokenEnd(raw, i + 1, end)
    if (params.has(name)) throw malformed(`"${name}" appears more than once`)
    params.set(name, valueOf(raw, i + 1, valueEnd))
    i = valueEnd
    if (i < end && raw.charCodeAt(i) !== SP) throw malformed('expected a space between pairs')
  }
  const scheme = params.get('scheme')
  if (scheme === undefined || scheme === '') throw malformed('no scheme')
  params.delete('scheme')
  return { scheme, params, legacy: true }
}

/** Index just past a token value starting at `i`; a token value may not be empty. */
function tokenEnd(raw: string, i: number, end: number): number {
  let j = i
  while (j < end && isIn(TOKEN_CHARS, raw.charCodeAt(j))) j++
  if (j === i) throw malformed('expected a token or a quoted string')
  return j
}

/** Index just past the closing quote of the quoted string at `i` (printable ASCII, `\"` and `\\`). */
function quotedEnd(raw: string, i: number, end: number): number {
  for (let j = i + 1; j < end; j++) {
    const c = raw.charCodeAt(j)
    if (c === DQUOTE) return j + 1
    if (c < 0x20 || c > 0x7e) throw malformed('non-printable character in a quoted string')
    if (c === BACKSLASH) {
      const next = raw.charCodeAt(j + 1)
      if (next !== DQUOTE && next !== BACKSLASH) throw malformed('bad escape in a quoted string')
      j++
    }
  }
  throw malformed('unterminated quoted string')
}

/** The value between `start` and `end`: a token as is, a quoted string unquoted and unescaped. */
function valueOf(raw: string, start: number, end: number): string {
  if (raw.charCodeAt(start) !== DQUOTE) return raw.slice(start, end)
  const inner = raw.slice(start + 1, end - 1)
  return inner.includes('\\') ? inner.replace(/\\(["\\])/g, '$1') : inner
}

/**
 * Decodes a legacy `Signature` member value, `:<base64url, unpadded>:`. Standard base64 and
 * padding are accepted too (Node's base64 decoder reads both alphabets once the characters
 * are checked here, since `Buffer.from` silently skips anything it does not know).
 */
export function decodeLegacySignature(raw: string): Uint8Array {
  const last = raw.length - 1
  if (last < 1 || raw.charCodeAt(0) !== COLON || raw.charCodeAt(last) !== COLON) {
    throw new SignatureError('invalid_input', 'Signature member is not a byte sequence')
  }
  let end = last
  if (raw.charCodeAt(end - 1) === EQUALS) end--
  if (raw.charCodeAt(end - 1) === EQUALS) end--
  for (let i = 1; i < end; i++) {
    if (!isIn(BASE64_CHARS, raw.charCodeAt(i))) {
      throw new SignatureError('invalid_input', 'Signature member is not base64 or base64url')
    }
  }
  if ((end - 1) % 4 === 1) throw new SignatureError('invalid_input', 'Signature member has a truncated base64 length')
  const bytes = Buffer.from(raw.slice(1, end), 'base64')
  return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.length)
}

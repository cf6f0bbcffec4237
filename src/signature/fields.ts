/**
 * Header field helpers shared by the parser, the signature base and the digest check.
 *
 * Node hands a header over either as one string (lines already combined) or as one string per
 * field line. RFC 9110 §5.3 combines lines with ", "; RFC 9421 §2.1 additionally strips each
 * line of leading and trailing whitespace (OWS: SP and HTAB only, never `String#trim`'s wider
 * set, which would eat a latin1 NBSP and break byte-exactness).
 */

/** A header as `SignedRequest['headers']` holds it. */
export type FieldLines = string | readonly string[] | undefined

const SP = 0x20
const HTAB = 0x09

/** True for the two OWS characters of RFC 9110 §5.6.3. */
export function isOWS(code: number): boolean {
  return code === SP || code === HTAB
}

/** `value` without leading and trailing SP/HTAB; the same string when there is none. */
export function trimOWS(value: string): string {
  let start = 0
  let end = value.length
  while (start < end && isOWS(value.charCodeAt(start))) start++
  while (end > start && isOWS(value.charCodeAt(end - 1))) end--
  return start === 0 && end === value.length ? value : value.slice(start, end)
}

/** The field lines joined with ", " (RFC 9110 §5.3), as a structured-field parser wants them. */
export function joinLines(value: FieldLines): string | undefined {
  if (value === undefined || typeof value === 'string') return value
  if (value.length === 0) return undefined
  return value.length === 1 ? value[0] : value.join(', ')
}

/** The RFC 9421 §2.1 component value of a field: each line OWS-trimmed, joined with ", ". */
export function componentValue(value: FieldLines): string | undefined {
  if (value === undefined) return undefined
  if (typeof value === 'string') return trimOWS(value)
  if (value.length === 0) return undefined
  let out = ''
  for (let i = 0; i < value.length; i++) out += (i === 0 ? '' : ', ') + trimOWS(value[i] as string)
  return out
}

/** True when the field is absent or holds only OWS: such a field is treated as not sent. */
export function isBlank(value: string | undefined): boolean {
  return value === undefined || trimOWS(value).length === 0
}

/** A short, quoted rendering of untrusted text for error details (never a whole token). */
export function quoted(text: string): string {
  return JSON.stringify(text.length > 48 ? `${text.slice(0, 48)}…` : text)
}

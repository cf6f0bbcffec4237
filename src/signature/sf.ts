import { DisplayString, Token, parseDictionary, type BareItem, type Dictionary } from 'structured-headers'

/**
 * Thin adapters over `structured-headers` (RFC 8941 / RFC 9651), so the rest of the folder
 * never sees a library exception or a library type it would have to re-check.
 */

/** The strictly parsed dictionary, or `undefined` when the field is not valid RFC 8941. */
export function tryParseDictionary(value: string): Dictionary | undefined {
  try {
    return parseDictionary(value)
  } catch {
    return undefined
  }
}

/**
 * A bare item as a `SignatureKeyMember` parameter value: strings and tokens as text, byte
 * sequences as standard base64 (as `src/signature/types.ts` documents), dates as epoch seconds.
 */
export function plainValue(item: BareItem): string | number | boolean {
  if (typeof item === 'string' || typeof item === 'number' || typeof item === 'boolean') return item
  if (item instanceof Token || item instanceof DisplayString) return item.toString()
  if (item instanceof Date) return Math.floor(item.getTime() / 1000)
  if (item instanceof ArrayBuffer) return Buffer.from(item).toString('base64')
  return Buffer.from(item.buffer, item.byteOffset, item.byteLength).toString('base64')
}

/**
 * Byte values and character classes shared by the hand-written scanners (`scan.ts`,
 * `signature-key.ts`, `legacy.ts`). They read headers a char code at a time because the hot
 * path cannot afford a general parser's per-character allocations (measured by
 * bench/signature-key-parse.ts; the fast path is held to `structured-headers`' answers by
 * the differential test in test/signature/signature-key.test.ts).
 */
export const SP = 0x20
export const DQUOTE = 0x22
export const PERCENT = 0x25
export const LPAREN = 0x28
export const RPAREN = 0x29
export const COMMA = 0x2c
export const COLON = 0x3a
export const SEMICOLON = 0x3b
export const EQUALS = 0x3d
export const BACKSLASH = 0x5c

export type CharClass = Uint8Array

export function charClass(chars: string): CharClass {
  const table = new Uint8Array(128)
  for (let i = 0; i < chars.length; i++) table[chars.charCodeAt(i)] = 1
  return table
}

export function isIn(table: CharClass, code: number): boolean {
  return code < 128 && table[code] === 1
}

/** sf-token characters (RFC 8941 §3.3.4): RFC 9110 tchar plus ":" and "/". */
export const TOKEN_CHARS = charClass("!#$%&'*+-.^_`|~:/0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz")
/** The first character of an sf-token: ALPHA or "*". */
export const TOKEN_START = charClass('*ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz')
/** key characters (RFC 8941 §3.1.2). */
export const KEY_CHARS = charClass('_-.*0123456789abcdefghijklmnopqrstuvwxyz')
/** The first character of a key: lcalpha or "*". */
export const KEY_START = charClass('*abcdefghijklmnopqrstuvwxyz')

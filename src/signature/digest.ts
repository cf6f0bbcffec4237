import { createHash, timingSafeEqual } from 'node:crypto'
import { SignatureError } from '../errors.js'
import { isInnerList } from 'structured-headers'
import { joinLines, type FieldLines } from './fields.js'
import { tryParseDictionary } from './sf.js'

/**
 * RFC 9530 `Content-Digest`: when a signature covers `content-digest`, the signature only
 * proves the header is the agent's; this proves the body is the one the header describes
 * (AAuth "Covered Components": a PEP that requires `content-digest` MUST check it).
 *
 * Supported algorithms (RFC 9530 §5 "Active" ones); others are ignored (RFC 9530 §2:
 * a recipient MAY ignore algorithms it does not support).
 */
const ALGORITHMS = { 'sha-256': 'sha256', 'sha-512': 'sha512' } as const

/**
 * Checks `Content-Digest` against `body`. At least one supported algorithm must be present, and
 * every supported one present must match.
 *  - header absent: `invalid_input` (content-digest is covered, so the agent must send it);
 *  - not a Dictionary, a supported member that is not a byte sequence, or no supported
 *    algorithm: `invalid_input`;
 *  - mismatch: `invalid_signature` with metric reason `digest_mismatch`.
 */
export function checkContentDigest(headerValue: FieldLines, body: Buffer): void {
  const value = joinLines(headerValue)
  if (value === undefined) {
    throw new SignatureError('invalid_input', 'content-digest is covered but the request has no Content-Digest')
  }
  const dictionary = tryParseDictionary(value)
  if (dictionary === undefined) {
    throw new SignatureError('invalid_input', 'Content-Digest is not a valid RFC 8941 dictionary')
  }
  let checked = 0
  for (const [name, member] of dictionary) {
    if (!Object.hasOwn(ALGORITHMS, name)) continue
    if (isInnerList(member) || !(member[0] instanceof ArrayBuffer)) {
      throw new SignatureError('invalid_input', `Content-Digest ${name} is not a byte sequence`)
    }
    const expected = new Uint8Array(member[0])
    const actual = createHash(ALGORITHMS[name as keyof typeof ALGORITHMS]).update(body).digest()
    if (expected.length !== actual.length || !timingSafeEqual(expected, actual)) {
      throw new SignatureError('invalid_signature', 'content-digest does not match the body', {
        reason: 'digest_mismatch',
      })
    }
    checked++
  }
  if (checked === 0) {
    throw new SignatureError('invalid_input', 'Content-Digest has no supported algorithm (sha-256, sha-512)')
  }
}

import { verify, type KeyObject, type VerifyKeyObjectInput } from 'node:crypto'
import type { SignatureAlgorithm, VerifyKey } from './types.js'

/**
 * RFC 9421 §3.3.7 (JOSE algorithms): the signature base is the whole signing input, and the
 * signature is the raw JWS signature bytes: 64 for Ed25519 (RFC 8037) and R‖S, 64 for ES256
 * (RFC 7518 §3.4, hence `ieee-p1363`, not DER). One entry per `SignatureAlgorithm` (STYLE 10):
 * the compiler refuses a new algorithm without its verifier.
 */
interface AlgorithmEntry {
  /** `KeyObject.asymmetricKeyType` the key must have; a mismatched key never verifies. */
  keyType: KeyObject['asymmetricKeyType']
  /** Exact signature length in bytes. */
  length: number
  verify(data: Buffer, key: KeyObject, signature: Uint8Array): boolean
}

const ALGORITHMS = {
  Ed25519: {
    keyType: 'ed25519',
    length: 64,
    verify: (data, key, signature) => verify(null, data, key, signature),
  },
  ES256: {
    keyType: 'ec',
    length: 64,
    verify: (data, key, signature) =>
      verify('sha256', data, { key, dsaEncoding: 'ieee-p1363' } satisfies VerifyKeyObjectInput, signature),
  },
} as const satisfies Record<SignatureAlgorithm, AlgorithmEntry>

/**
 * True when `signature` is `key`'s signature over `base`. Never throws: a wrong length, a key
 * of the wrong type or an OpenSSL refusal are all just "does not verify".
 *
 * The base is encoded as latin1: Node decodes header bytes as latin1, so this gives back the
 * exact bytes the agent signed (UTF-8 would expand any obs-text byte into two).
 */
export function verifySignatureBytes(key: VerifyKey, base: string, signature: Uint8Array): boolean {
  if (!Object.hasOwn(ALGORITHMS, key.alg)) return false
  const entry: AlgorithmEntry = ALGORITHMS[key.alg]
  if (signature.length !== entry.length) return false
  if (key.key.asymmetricKeyType !== entry.keyType) return false
  try {
    return entry.verify(Buffer.from(base, 'latin1'), key.key, signature)
  } catch {
    return false
  }
}

import { verify, type KeyObject, type VerifyKeyObjectInput } from 'node:crypto'
import type { SignatureAlgorithm, VerifyKey } from './types.js'

/**
 * RFC 9421 §3.3.7 (JOSE algorithms): the signature base is the whole signing input, and the
 * signature is the raw JWS signature bytes: 64 for Ed25519 (RFC 8037) and R‖S, 64 for ES256
 * (RFC 7518 §3.4, hence `ieee-p1363`, not DER). One entry per `SignatureAlgorithm`, a table rather than branches (docs/architecture.md):
 * the compiler refuses a new algorithm without its verifier.
 */
interface AlgorithmEntry {
  /** `KeyObject.asymmetricKeyType` the key must have; a mismatched key never verifies. */
  keyType: KeyObject['asymmetricKeyType']
  /** Exact signature length in bytes. */
  length: number
  /** The digest `crypto.verify` takes: none for Ed25519 (it hashes internally). */
  digest: string | null
  /** ECDSA signatures arrive as R‖S, not DER. */
  dsaEncoding?: 'ieee-p1363'
}

const ALGORITHMS = {
  Ed25519: { keyType: 'ed25519', length: 64, digest: null },
  ES256: { keyType: 'ec', length: 64, digest: 'sha256', dsaEncoding: 'ieee-p1363' },
} as const satisfies Record<SignatureAlgorithm, AlgorithmEntry>

/** The entry for `key` if `signature` can be its signature at all (right algorithm, type, length). */
function entryFor(key: VerifyKey, signature: Uint8Array): AlgorithmEntry | undefined {
  if (!Object.hasOwn(ALGORITHMS, key.alg)) return undefined
  const entry: AlgorithmEntry = ALGORITHMS[key.alg]
  if (signature.length !== entry.length || key.key.asymmetricKeyType !== entry.keyType) return undefined
  return entry
}

function keyInput(entry: AlgorithmEntry, key: KeyObject): KeyObject | VerifyKeyObjectInput {
  return entry.dsaEncoding ? { key, dsaEncoding: entry.dsaEncoding } : key
}

/**
 * True when `signature` is `key`'s signature over `base`. Never rejects: a wrong length, a key
 * of the wrong type or an OpenSSL refusal are all just "does not verify".
 *
 * The curve arithmetic runs on libuv's thread pool (`crypto.verify` with a callback): on the
 * request path the event loop keeps serving other connections while a core does it, which is
 * the largest single cost of a signed request. It is the only form, so what the tests verify
 * is what the request path runs.
 *
 * The base is encoded as latin1: Node decodes header bytes as latin1, so this gives back the
 * exact bytes the agent signed (UTF-8 would expand any obs-text byte into two).
 */
export function verifySignatureBytes(key: VerifyKey, base: string, signature: Uint8Array): Promise<boolean> {
  const entry = entryFor(key, signature)
  if (entry === undefined) return Promise.resolve(false)
  return new Promise((resolve) => {
    try {
      verify(entry.digest, Buffer.from(base, 'latin1'), keyInput(entry, key.key), signature, (err, ok) => resolve(err === null && ok))
    } catch {
      resolve(false)
    }
  })
}

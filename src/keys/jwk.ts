import { createPublicKey, type KeyObject } from 'node:crypto'
import { calculateJwkThumbprint } from 'jose'
import { LRUCache } from 'lru-cache'
import { SignatureError } from '../errors.js'
import type { SignatureAlgorithm, VerifyKey } from '../signature/types.js'
import type { JwkRules, KeyImporterLike } from './types.js'

/**
 * Public signing JWKs under the AAuth rules (Signature-Key -08 §3.3 "Algorithm determination";
 * AAuth -11 "Signature Algorithms"): a fully specified `alg` is required and decides everything;
 * `kty`/`crv` must agree with it. Codes: a missing, polymorphic (`EdDSA`), prohibited (`none`,
 * `HS*`) or unaccepted `alg` is `unsupported_algorithm`; anything malformed, private or
 * inconsistent is `invalid_key`.
 */

/** What each accepted algorithm requires of the key (RFC 8037 §2, RFC 7518 §6.2). */
const SHAPES = {
  Ed25519: { kty: 'OKP', crv: 'Ed25519', coordinates: ['x'] },
  ES256: { kty: 'EC', crv: 'P-256', coordinates: ['x', 'y'] },
} as const satisfies Record<SignatureAlgorithm, { kty: string; crv: string; coordinates: readonly string[] }>

/** Members that make a JWK private or symmetric (RFC 7518 §6.2.2, §6.3.2, §6.4; ML-DSA `priv`). */
export const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k', 'priv'] as const

/** A 32-byte value in unpadded base64url: Ed25519 `x`, P-256 `x` and `y`. */
const COORDINATE = /^[A-Za-z0-9_-]{43}$/

/** A JWK that passed `checkSigningJwk`, with the algorithm it is bound to. */
export interface CheckedJwk {
  alg: SignatureAlgorithm
  /** A frozen shallow copy of the key as received. */
  jwk: Readonly<JsonWebKey>
  /** The RFC 7638 required members, in the form hashed for the thumbprint. */
  required: { kty: string; crv: string; x: string; y?: string }
}

/** Checks `input` against the rules without importing it. Throws `SignatureError`. */
export function checkSigningJwk(input: unknown, rules: JwkRules): CheckedJwk {
  if (!isRecord(input)) throw invalidKey('the key is not a JSON object')
  if (PRIVATE_MEMBERS.some((m) => input[m] !== undefined)) throw invalidKey('the key carries private members')
  if (typeof input.kty !== 'string') throw invalidKey('the key has no kty')
  const alg = algorithmOf(input, rules)
  const shape = SHAPES[alg]
  if (input.kty !== shape.kty || input.crv !== shape.crv) {
    throw invalidKey(`kty/crv do not match alg ${alg}`)
  }
  for (const member of shape.coordinates) {
    const value = input[member]
    if (typeof value !== 'string' || !COORDINATE.test(value)) throw invalidKey(`the key's ${member} is missing or malformed`)
  }
  if (input.use !== undefined && input.use !== 'sig') throw invalidKey('the key is not for signatures (use)')
  const ops = input.key_ops
  if (ops !== undefined && !(Array.isArray(ops) && ops.includes('verify'))) {
    throw invalidKey('the key is not for verification (key_ops)')
  }
  const required = { kty: shape.kty, crv: shape.crv, x: input.x as string }
  if (alg === 'ES256') Object.assign(required, { y: input.y as string })
  return { alg, jwk: Object.freeze({ ...input }) as Readonly<JsonWebKey>, required }
}

/**
 * The key's algorithm. Only its `alg` member decides, never `kty`/`crv`, except in the
 * January-2026 format, where a key without `alg` or with `EdDSA` on OKP/Ed25519 means Ed25519.
 */
function algorithmOf(jwk: Record<string, unknown>, rules: JwkRules): SignatureAlgorithm {
  const alg = jwk.alg
  let named: unknown = alg
  if (alg === undefined || alg === 'EdDSA') {
    const legacyEd25519 = rules.legacy && jwk.kty === 'OKP' && jwk.crv === 'Ed25519'
    if (!legacyEd25519) {
      throw unsupported(alg === undefined ? 'the key has no alg' : 'alg EdDSA is polymorphic; use Ed25519')
    }
    named = 'Ed25519'
  }
  if (typeof named !== 'string') throw invalidKey('the key alg is not a string')
  if (!(rules.algorithms as readonly string[]).includes(named)) throw unsupported(`alg ${named} is not accepted`)
  return named as SignatureAlgorithm
}

/** RFC 7638 SHA-256 thumbprint (base64url) of a public JWK, over its required members only. */
export async function jwkThumbprint(jwk: Readonly<JsonWebKey>): Promise<string> {
  return calculateJwkThumbprint(jwk as Parameters<typeof calculateJwkThumbprint>[0], 'sha256')
}

export interface KeyImporterOptions {
  /** Distinct keys kept imported. Default 10 000; the least recently used is dropped beyond it. */
  maxEntries?: number
}

type Imported = Omit<VerifyKey, 'jwk'>

/**
 * Turns public JWKs into `VerifyKey`s. The hot path sees the same few keys again and again, so
 * each is imported into a `KeyObject` (and its thumbprint hashed) once: the cache is keyed by
 * the algorithm and the RFC 7638 required members (the thumbprint's input, so no hashing on a hit).
 */
export class KeyImporter implements KeyImporterLike {
  readonly #imported: LRUCache<string, Imported>

  constructor(options: KeyImporterOptions = {}) {
    this.#imported = new LRUCache({ max: options.maxEntries ?? 10_000 })
  }

  /** Public keys held (for `aauth_gateway_cache_entries`). */
  get size(): number {
    return this.#imported.size
  }

  async verifyKey(jwk: unknown, rules: JwkRules): Promise<VerifyKey> {
    const checked = checkSigningJwk(jwk, rules)
    const id = `${checked.alg}.${checked.required.x}.${checked.required.y ?? ''}`
    let imported = this.#imported.get(id)
    if (imported === undefined) {
      imported = await importChecked(checked)
      this.#imported.set(id, imported)
    }
    return { ...imported, jwk: checked.jwk }
  }
}

async function importChecked(checked: CheckedJwk): Promise<Imported> {
  let key: KeyObject
  try {
    key = createPublicKey({ key: checked.required, format: 'jwk' })
  } catch {
    throw invalidKey('the key does not import (not a point on its curve?)')
  }
  return { alg: checked.alg, key, thumbprint: await jwkThumbprint(checked.required) }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

function invalidKey(detail: string): SignatureError {
  return new SignatureError('invalid_key', detail)
}

function unsupported(detail: string): SignatureError {
  return new SignatureError('unsupported_algorithm', detail)
}

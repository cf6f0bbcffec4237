import { readFile } from 'node:fs/promises'
import { createPrivateKey, createPublicKey, type JsonWebKey as NodeJwk, type KeyObject } from 'node:crypto'

/** The resource's own signing key: mints resource tokens and is published in its JWKS. */
export interface ResourceKey {
  readonly kid: string
  readonly alg: 'Ed25519' | 'ES256'
  readonly privateKey: KeyObject
  /** The public half, as published at the resource's `jwks_uri` (with `kid`, `alg`, `use`). */
  readonly publicJwk: Readonly<JsonWebKey & { kid: string; alg: string; use: 'sig' }>
}

const KEY_TYPES: Record<ResourceKey['alg'], { kty: string; crv: string }> = {
  Ed25519: { kty: 'OKP', crv: 'Ed25519' },
  ES256: { kty: 'EC', crv: 'P-256' },
}

/** Reads a private JWK file (as written by `aauth-gateway keygen`). Throws with a plain message. */
export async function loadResourceKey(file: string): Promise<ResourceKey> {
  let jwk: JsonWebKey & { kid?: unknown }
  try {
    jwk = JSON.parse(await readFile(file, 'utf8')) as JsonWebKey & { kid?: unknown }
  } catch (err) {
    throw new Error(`cannot read signing key ${file}: ${(err as Error).message}`)
  }
  const alg = jwk.alg
  if (alg !== 'Ed25519' && alg !== 'ES256') throw new Error('signing key needs "alg": "Ed25519" or "ES256"')
  if (typeof jwk.kid !== 'string' || jwk.kid === '') throw new Error('signing key needs a "kid"')
  const expected = KEY_TYPES[alg]
  if (jwk.kty !== expected.kty || jwk.crv !== expected.crv) throw new Error(`signing key with alg ${alg} must be ${expected.kty}/${expected.crv}`)
  if (typeof jwk.d !== 'string') throw new Error('signing key must be a private JWK (with "d")')
  const privateKey = createPrivateKey({ key: jwk as NodeJwk, format: 'jwk' })
  const pub = createPublicKey(privateKey).export({ format: 'jwk' })
  return { kid: jwk.kid, alg, privateKey, publicJwk: { ...pub, kid: jwk.kid, alg, use: 'sig' } }
}


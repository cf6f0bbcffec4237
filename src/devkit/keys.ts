import { createPrivateKey, createPublicKey, generateKeyPairSync, type JsonWebKey as NodeJwk, type KeyObject } from 'node:crypto'
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { dirname } from 'node:path'
import type { SigningKey } from './sign.js'

/** The signature algorithms the gateway accepts (README "Config": `signatures.algorithms`). */
export type DevAlg = 'Ed25519' | 'ES256'

/**
 * A public JWK as AAuth publishes it: every key carries `alg` (and a `kid` where one is named).
 * Type aliases rather than interfaces, so they pass wherever a JWK record is taken.
 */
export type PublicJwk = {
  kty: string
  crv: string
  x: string
  y?: string
  alg: DevAlg
  kid?: string
}

/** A private JWK as `aauth-gateway keygen` writes it. */
export type PrivateJwk = PublicJwk & { d: string }

/** A key pair that signs JWTs (with jose) and requests (with `signRequest`). */
export interface DevKey extends SigningKey {
  publicKey: KeyObject
  publicJwk: PublicJwk
  privateJwk: PrivateJwk
  /** The `hwk` Signature-Key member value for this key. */
  hwk: string
}

/** A fresh private JWK (without `alg`/`kid`): the one key-pair maker of the repository. */
export function generatePrivateJwk(alg: DevAlg): NodeJwk {
  const { privateKey } =
    alg === 'Ed25519' ? generateKeyPairSync('ed25519') : generateKeyPairSync('ec', { namedCurve: 'P-256' })
  return privateKey.export({ format: 'jwk' })
}

/** A fresh key pair; its JWKs carry `alg`, and `kid` when one is given. */
export function newKey(alg: DevAlg = 'Ed25519', kid?: string): DevKey {
  const jwk: NodeJwk = { ...generatePrivateJwk(alg), alg }
  if (kid !== undefined) jwk.kid = kid
  return keyFromJwk(jwk)
}

/** The key a private JWK (e.g. a `keygen` file) holds. Throws when it is not an Ed25519 or P-256 private key. */
export function keyFromJwk(jwk: NodeJwk): DevKey {
  const alg = algOf(jwk)
  if (typeof jwk.d !== 'string' || typeof jwk.x !== 'string') throw new Error('not a private JWK (no "d")')
  const privateKey = createPrivateKey({ key: jwk, format: 'jwk' })
  const publicJwk = publicJwkOf(jwk, alg)
  return {
    alg,
    privateKey,
    publicKey: createPublicKey(privateKey),
    publicJwk,
    privateJwk: { ...publicJwk, d: jwk.d },
    hwk: hwkMember(publicJwk),
  }
}

/** The public members of a JWK (RFC 7517 §4, RFC 8037 §2, RFC 7518 §6.2.1), with `alg`. */
export function publicJwkOf(jwk: NodeJwk, alg: DevAlg = algOf(jwk)): PublicJwk {
  const { kty, crv, x, y, kid } = jwk
  if (typeof kty !== 'string' || typeof crv !== 'string' || typeof x !== 'string') throw new Error('not an OKP or EC JWK')
  const pub: PublicJwk = { kty, crv, x, alg }
  if (typeof y === 'string') pub.y = y
  if (typeof kid === 'string') pub.kid = kid
  return pub
}

/** The algorithm a JWK's curve implies, checked against its `alg` when it names one. */
export function algOf(jwk: NodeJwk): DevAlg {
  const implied = jwk.kty === 'OKP' && jwk.crv === 'Ed25519' ? 'Ed25519' : jwk.kty === 'EC' && jwk.crv === 'P-256' ? 'ES256' : undefined
  if (implied === undefined) throw new Error('the key must be Ed25519 (OKP) or P-256 (EC)')
  if (jwk.alg !== undefined && jwk.alg !== implied) throw new Error(`"alg": "${jwk.alg}" does not fit a ${jwk.crv} key`)
  return implied
}

/** The `hwk` Signature-Key member value (Signature-Key -08 §3.1: `alg` required, no `kid`). */
export function hwkMember(jwk: PublicJwk): string {
  const point = jwk.y === undefined ? `x="${jwk.x}"` : `x="${jwk.x}";y="${jwk.y}"`
  return `hwk;alg="${jwk.alg}";kty="${jwk.kty}";crv="${jwk.crv}";${point}`
}

/** The `jwt` Signature-Key member value carrying `token`. */
export function jwtMember(token: string): string {
  return `jwt;jwt="${token}"`
}

/**
 * The key in `file` (a private JWK as `keygen` writes it), or a new Ed25519 key written there
 * with mode 0600 when the file is missing, so a restarted server keeps its identity.
 */
export function loadOrCreateKeyFile(file: string, kid: string): { key: DevKey; created: boolean } {
  if (existsSync(file)) {
    const jwk = JSON.parse(readFileSync(file, 'utf8')) as NodeJwk
    return { key: keyFromJwk(jwk), created: false }
  }
  const key = newKey('Ed25519', kid)
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 })
  writeFileSync(file, JSON.stringify(key.privateJwk, null, 2) + '\n', { mode: 0o600, flag: 'wx' })
  chmodSync(file, 0o600)
  return { key, created: true }
}

import { generateKeyPairSync, type KeyObject } from 'node:crypto'
import type { SigningKey } from '../client/sign.js'

/** A public Ed25519 JWK as AAuth publishes it: every key carries `alg` (and a `kid` where one is named). */
export interface PublicJwk {
  kty: 'OKP'
  crv: 'Ed25519'
  x: string
  alg: 'Ed25519'
  kid?: string
}

/** An Ed25519 key pair: signs JWTs (with jose) or requests (with `signRequest`). */
export interface DemoKey extends SigningKey {
  alg: 'Ed25519'
  privateKey: KeyObject
  publicJwk: PublicJwk
}

/** A fresh Ed25519 key whose public JWK names `kid`. */
export function newKey(kid?: string): DemoKey {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519')
  const { x } = publicKey.export({ format: 'jwk' })
  if (typeof x !== 'string') throw new Error('could not export the Ed25519 public key')
  const publicJwk: PublicJwk = { kty: 'OKP', crv: 'Ed25519', x, alg: 'Ed25519' }
  if (kid !== undefined) publicJwk.kid = kid
  return { alg: 'Ed25519', privateKey, publicJwk }
}

/** The `hwk` Signature-Key member value (Signature-Key -08 §3.1: `alg` required, no `kid`). */
export function hwkMember(jwk: PublicJwk): string {
  return `hwk;alg="${jwk.alg}";kty="${jwk.kty}";crv="${jwk.crv}";x="${jwk.x}"`
}

/** The `jwt` Signature-Key member value carrying `token`. */
export function jwtMember(token: string): string {
  return `jwt;jwt="${token}"`
}

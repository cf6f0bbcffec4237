import { generateKeyPairSync, type JsonWebKey as NodeJwk, type KeyObject } from 'node:crypto'
import type { SigningKey } from '../../src/client/sign.js'

export interface TestKey extends SigningKey {
  publicJwk: NodeJwk & { alg: string }
  privateJwk: NodeJwk & { alg: string }
  publicKey: KeyObject
  /** The `hwk` Signature-Key member value for this key (draft -08: `alg` required). */
  hwk: string
}

export function testKey(alg: 'Ed25519' | 'ES256' = 'Ed25519'): TestKey {
  const { privateKey, publicKey } =
    alg === 'Ed25519' ? generateKeyPairSync('ed25519') : generateKeyPairSync('ec', { namedCurve: 'P-256' })
  const pub = publicKey.export({ format: 'jwk' })
  const priv = privateKey.export({ format: 'jwk' })
  const members = pub.kty === 'OKP' ? `kty="OKP";crv="${pub.crv}";x="${pub.x}"` : `kty="EC";crv="${pub.crv}";x="${pub.x}";y="${pub.y}"`
  return {
    alg,
    privateKey,
    publicKey,
    publicJwk: { ...pub, alg },
    privateJwk: { ...priv, alg },
    hwk: `hwk;alg="${alg}";${members}`,
  }
}

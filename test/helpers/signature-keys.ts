import { createHash, createPublicKey, sign, type KeyObject } from 'node:crypto'
import { newKey } from '../../src/devkit/keys.js'
import type { SignatureAlgorithm, VerifyKey } from '../../src/signature/types.js'

/** Members of a public JWK that RFC 7638 hashes, per key type. */
const THUMBPRINT_MEMBERS: Record<string, readonly string[]> = { OKP: ['crv', 'kty', 'x'], EC: ['crv', 'kty', 'x', 'y'] }

/** A `VerifyKey` for a public (or private: private members are dropped) JWK, as src/keys would build it. */
export function verifyKeyFromJwk(jwk: JsonWebKey, alg: SignatureAlgorithm): VerifyKey {
  const members = THUMBPRINT_MEMBERS[jwk.kty ?? ''] ?? []
  const pub: Record<string, string> = {}
  for (const m of members) pub[m] = String((jwk as Record<string, unknown>)[m])
  const thumbprint = createHash('sha256').update(JSON.stringify(pub)).digest('base64url')
  return { alg, key: createPublicKey({ key: pub, format: 'jwk' }), jwk: pub, thumbprint }
}

export interface TestKeyPair {
  privateKey: KeyObject
  verifyKey: VerifyKey
  /** The private JWK with `alg`, as `@hellocoop/httpsig` wants it. */
  privateJwk: JsonWebKey
  sign(base: string): Buffer
}

/** A fresh Ed25519 or ES256 key pair with a signer producing RFC 9421 §3.3.7 signature bytes. */
export function testKeyPair(alg: SignatureAlgorithm): TestKeyPair {
  const { privateKey } = newKey(alg)
  const privateJwk = { ...privateKey.export({ format: 'jwk' }), alg }
  return {
    privateKey,
    privateJwk,
    verifyKey: verifyKeyFromJwk(privateJwk, alg),
    sign: (base) =>
      alg === 'Ed25519'
        ? sign(null, Buffer.from(base, 'latin1'), privateKey)
        : sign('sha256', Buffer.from(base, 'latin1'), { key: privateKey, dsaEncoding: 'ieee-p1363' }),
  }
}

import assert from 'node:assert/strict'
import { test } from 'node:test'
import { SignatureError, type SignatureErrorCode } from '../../src/errors.js'
import { checkSigningJwk, jwkThumbprint, KeyImporter } from '../../src/keys/jwk.js'
import type { JwkRules } from '../../src/keys/types.js'
import { newKey } from '../../src/devkit/keys.js'
import { readVector } from '../helpers/vectors.js'

const CURRENT: JwkRules = { algorithms: ['Ed25519', 'ES256'], legacy: false }
const LEGACY: JwkRules = { ...CURRENT, legacy: true }
const ED = { kty: 'OKP', crv: 'Ed25519', x: '11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo' }
const EC = { kty: 'EC', crv: 'P-256', x: 'f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU', y: 'x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0' }

function refuses(jwk: unknown, code: SignatureErrorCode, rules = CURRENT): void {
  assert.throws(() => checkSigningJwk(jwk, rules), (e: unknown) => e instanceof SignatureError && e.code === code)
}

test('accepts fully specified Ed25519 and ES256 keys', () => {
  assert.equal(checkSigningJwk({ ...ED, alg: 'Ed25519' }, CURRENT).alg, 'Ed25519')
  assert.equal(checkSigningJwk({ ...EC, alg: 'ES256', use: 'sig', kid: 'k' }, CURRENT).alg, 'ES256')
})

test('refuses a key without alg, or with EdDSA, outside the legacy format (unsupported_algorithm)', () => {
  refuses(ED, 'unsupported_algorithm')
  refuses({ ...ED, alg: 'EdDSA' }, 'unsupported_algorithm')
})

test('in the legacy format an OKP/Ed25519 key without alg or with EdDSA means Ed25519', () => {
  assert.equal(checkSigningJwk(ED, LEGACY).alg, 'Ed25519')
  assert.equal(checkSigningJwk({ ...ED, alg: 'EdDSA' }, LEGACY).alg, 'Ed25519')
  refuses(EC, 'unsupported_algorithm', LEGACY)
})

test('refuses none, HS256, RS256, ES384 and algorithms not in signatures.algorithms', () => {
  for (const alg of ['none', 'HS256', 'RS256', 'ES384', 'ML-DSA-44']) refuses({ ...ED, alg }, 'unsupported_algorithm')
  refuses({ kty: 'oct', k: 'c2VjcmV0', alg: 'HS256' }, 'invalid_key')
  refuses({ kty: 'oct', alg: 'HS256' }, 'unsupported_algorithm')
  refuses({ ...EC, alg: 'ES256' }, 'unsupported_algorithm', { algorithms: ['Ed25519'], legacy: false })
})

test('refuses kty or crv disagreeing with alg (invalid_key)', () => {
  refuses({ ...ED, alg: 'ES256' }, 'invalid_key')
  refuses({ ...EC, alg: 'Ed25519' }, 'invalid_key')
  refuses({ ...ED, crv: 'X25519', alg: 'Ed25519' }, 'invalid_key')
  refuses({ kty: 'oct', alg: 'Ed25519', x: ED.x }, 'invalid_key')
})

test('refuses missing or malformed members, private members, and non-signature keys (invalid_key)', () => {
  refuses(null, 'invalid_key')
  refuses('{"kty":"OKP"}', 'invalid_key')
  refuses([ED], 'invalid_key')
  refuses({ crv: 'Ed25519', x: ED.x, alg: 'Ed25519' }, 'invalid_key')
  refuses({ kty: 'OKP', crv: 'Ed25519', alg: 'Ed25519' }, 'invalid_key')
  refuses({ ...ED, x: 'short', alg: 'Ed25519' }, 'invalid_key')
  refuses({ ...EC, y: undefined, alg: 'ES256' }, 'invalid_key')
  refuses({ ...ED, alg: 'Ed25519', d: 'nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A' }, 'invalid_key')
  refuses({ ...ED, alg: 'Ed25519', use: 'enc' }, 'invalid_key')
  refuses({ ...ED, alg: 'Ed25519', key_ops: ['sign'] }, 'invalid_key')
  refuses({ ...ED, alg: 42 }, 'invalid_key', LEGACY)
})

test('refuses an EC point that is not on the curve when importing (invalid_key)', async () => {
  const importer = new KeyImporter()
  const offCurve = { ...EC, y: EC.x, alg: 'ES256' }
  await assert.rejects(importer.verifyKey(offCurve, CURRENT), (e: unknown) => e instanceof SignatureError && e.code === 'invalid_key')
})

test('imports a key once: the same KeyObject serves every later lookup', async () => {
  const importer = new KeyImporter({ maxEntries: 10 })
  const key = newKey('ES256')
  const first = await importer.verifyKey({ ...key.publicJwk, kid: 'a' }, CURRENT)
  const second = await importer.verifyKey({ ...key.publicJwk, kid: 'b' }, CURRENT)
  assert.equal(first.key, second.key)
  assert.equal((second.jwk as { kid?: string }).kid, 'b', 'the JWK reported is the one received')
  assert.equal(first.thumbprint, await jwkThumbprint(key.publicJwk))
  assert.equal(first.key.asymmetricKeyType, 'ec')
})

test('computes RFC 7638 thumbprints (RFC 8037 A.3 key)', async () => {
  const importer = new KeyImporter()
  const verifyKey = await importer.verifyKey({ ...ED, alg: 'Ed25519', kid: 'x', use: 'sig' }, CURRENT)
  assert.equal(verifyKey.thumbprint, 'kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k')
})

interface ThumbprintCase { name: string; jwk: JsonWebKey; thumbprint: string }

test('matches the aauth-go jwk-thumbprint vectors', async () => {
  const file = readVector<{ cases: ThumbprintCase[] }>('aauth-go/jwk-thumbprint.json')
  for (const c of file.cases) assert.equal(await jwkThumbprint(c.jwk), c.thumbprint, c.name)
})

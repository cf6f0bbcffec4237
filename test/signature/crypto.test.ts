import * as ed from '@noble/ed25519'
import assert from 'node:assert/strict'
import { sign } from 'node:crypto'
import { test } from 'node:test'
import { verifySignatureBytes } from '../../src/signature/crypto.js'
import { testKeyPair } from '../helpers/signature-keys.js'

const BASE = '"@method": GET\n"@signature-params": ("@method");created=1'

test('verifies an Ed25519 signature over the base', async () => {
  const pair = testKeyPair('Ed25519')
  assert.equal(await verifySignatureBytes(pair.verifyKey, BASE, pair.sign(BASE)), true)
})

test('rejects an Ed25519 signature over a different base or with a flipped bit', async () => {
  const pair = testKeyPair('Ed25519')
  const signature = pair.sign(BASE)
  assert.equal(await verifySignatureBytes(pair.verifyKey, `${BASE} `, signature), false)
  signature[10] = (signature[10] as number) ^ 1
  assert.equal(await verifySignatureBytes(pair.verifyKey, BASE, signature), false)
})

test('rejects an Ed25519 signature by another key', async () => {
  assert.equal(await verifySignatureBytes(testKeyPair('Ed25519').verifyKey, BASE, testKeyPair('Ed25519').sign(BASE)), false)
})

test('verifies an ES256 signature in R||S form and rejects a tampered one', async () => {
  const pair = testKeyPair('ES256')
  const signature = pair.sign(BASE)
  assert.equal(signature.length, 64)
  assert.equal(await verifySignatureBytes(pair.verifyKey, BASE, signature), true)
  assert.equal(await verifySignatureBytes(pair.verifyKey, BASE.replace('GET', 'PUT'), signature), false)
  signature[40] = (signature[40] as number) ^ 0x80
  assert.equal(await verifySignatureBytes(pair.verifyKey, BASE, signature), false)
})

test('rejects an ES256 signature in DER form (RFC 9421 §3.3.7 wants raw R||S)', async () => {
  const pair = testKeyPair('ES256')
  const der = sign('sha256', Buffer.from(BASE), pair.privateKey)
  assert.equal(await verifySignatureBytes(pair.verifyKey, BASE, der), false)
})

test('returns false, never throws, for signatures of the wrong length', async () => {
  for (const alg of ['Ed25519', 'ES256'] as const) {
    const pair = testKeyPair(alg)
    const signature = pair.sign(BASE)
    for (const bytes of [new Uint8Array(0), signature.subarray(0, 63), Buffer.concat([signature, Buffer.alloc(1)]), new Uint8Array(1024)]) {
      assert.equal(await verifySignatureBytes(pair.verifyKey, BASE, bytes), false)
    }
  }
})

test('returns false when the key does not match the algorithm it is bound to', async () => {
  const ec = testKeyPair('ES256')
  const okp = testKeyPair('Ed25519')
  assert.equal(await verifySignatureBytes({ ...okp.verifyKey, alg: 'ES256' }, BASE, okp.sign(BASE)), false)
  assert.equal(await verifySignatureBytes({ ...ec.verifyKey, alg: 'Ed25519' }, BASE, ec.sign(BASE)), false)
})

test('agrees with @noble/ed25519 as an independent oracle', async () => {
  const pair = testKeyPair('Ed25519')
  const publicKey = Buffer.from(String(pair.verifyKey.jwk.x), 'base64url')
  for (let i = 0; i < 20; i++) {
    const base = `${BASE}\n${'x'.repeat(i * 13)}`
    const signature = pair.sign(base)
    const ours = await verifySignatureBytes(pair.verifyKey, base, signature)
    assert.equal(ours, await ed.verifyAsync(signature, Buffer.from(base, 'latin1'), publicKey))
    assert.equal(ours, true)
    signature[i] = (signature[i] as number) ^ 4
    assert.equal(await verifySignatureBytes(pair.verifyKey, base, signature), await ed.verifyAsync(signature, Buffer.from(base, 'latin1'), publicKey))
  }
})

test('signs and verifies the base as latin1 bytes, as Node decoded the header bytes', async () => {
  const pair = testKeyPair('Ed25519')
  const base = '"x-obs": caf\u00e9\n"@signature-params": ("x-obs");created=1'
  const signedLatin1 = sign(null, Buffer.from(base, 'latin1'), pair.privateKey)
  assert.equal(await verifySignatureBytes(pair.verifyKey, base, signedLatin1), true)
  assert.equal(await verifySignatureBytes(pair.verifyKey, base, sign(null, Buffer.from(base, 'utf8'), pair.privateKey)), false)
})

test('returns false for an algorithm it does not know', async () => {
  const pair = testKeyPair('Ed25519')
  for (const alg of ['EdDSA', 'toString', 'constructor']) {
    const key = { ...pair.verifyKey, alg } as unknown as Parameters<typeof verifySignatureBytes>[0]
    assert.equal(await verifySignatureBytes(key, BASE, pair.sign(BASE)), false)
  }
})

test('answers true for a good signature and false for a flipped or short one, for both algorithms', async () => {
  for (const alg of ['Ed25519', 'ES256'] as const) {
    const pair = testKeyPair(alg)
    const good = pair.sign(BASE)
    const flipped = Uint8Array.from(good)
    flipped[5] = (flipped[5] as number) ^ 1
    for (const [signature, expected] of [[good, true], [flipped, false], [good.subarray(0, 63), false]] as const) {
      assert.equal(await verifySignatureBytes(pair.verifyKey, BASE, signature), expected, alg)
    }
  }
})

import * as ed from '@noble/ed25519'
import assert from 'node:assert/strict'
import { createPublicKey } from 'node:crypto'
import { test } from 'node:test'
import { buildSignatureBase } from '../../src/signature/base.js'
import { checkCoveredComponents } from '../../src/signature/components.js'
import { verifySignatureBytes } from '../../src/signature/crypto.js'
import { parseSignatureHeaders } from '../../src/signature/parse.js'
import type { SignedRequest, VerifyKey } from '../../src/signature/types.js'
import { readVector } from '../helpers/vectors.js'
import { assertSignatureError } from '../helpers/signature-assert.js'

/** The shape of `test/fixtures/vectors/rfc9421-b26.json`. */
interface B26Vector {
  request: { method: string; target: string; authority: string; headers: Record<string, string> }
  label: string
  signature_input: string
  signature: string
  signature_base: string
  key: { public_jwk: { kty: string; crv: string; x: string } }
}

const vector = readVector<B26Vector>('rfc9421-b26.json')

/** The vector's request as the gateway would see it; B.2.6 has no Signature-Key, so one is added (not covered). */
function signedRequest(v: B26Vector): SignedRequest {
  const [path, query] = v.request.target.split('?')
  const headers: Record<string, string> = {}
  for (const [name, value] of Object.entries(v.request.headers)) headers[name.toLowerCase()] = value
  headers['signature-input'] = v.signature_input
  headers['signature'] = v.signature
  headers['signature-key'] = `${v.label}=hwk;alg="Ed25519";kty="OKP";crv="Ed25519";x="${v.key.public_jwk.x}"`
  return { method: v.request.method, authority: v.request.authority, path: path ?? '/', query: `?${query ?? ''}`, headers }
}

function verifyKey(v: B26Vector): VerifyKey {
  const jwk = v.key.public_jwk
  return { alg: 'Ed25519', key: createPublicKey({ key: jwk, format: 'jwk' }), jwk, thumbprint: '' }
}

test('builds the RFC 9421 B.2.6 signature base byte for byte', () => {
  const req = signedRequest(vector)
  const parsed = parseSignatureHeaders(req.headers, { legacy: false })
  assert.ok(parsed)
  assert.equal(parsed.label, vector.label)
  assert.equal(parsed.keyid, 'test-key-ed25519')
  assert.equal(`${vector.label}=${parsed.signatureParams}`, vector.signature_input)
  assert.equal(buildSignatureBase(parsed, req), vector.signature_base)
})

test('verifies the RFC 9421 B.2.6 signature with the B.1.4 public key', async () => {
  const req = signedRequest(vector)
  const parsed = parseSignatureHeaders(req.headers, { legacy: false })
  assert.ok(parsed)
  assert.equal(await verifySignatureBytes(verifyKey(vector), buildSignatureBase(parsed, req), parsed.signature), true)
  const tampered = { ...req, method: 'PUT' }
  assert.equal(await verifySignatureBytes(verifyKey(vector), buildSignatureBase(parsed, tampered), parsed.signature), false)
})

test('agrees with @noble/ed25519 on the RFC 9421 B.2.6 signature', async () => {
  const req = signedRequest(vector)
  const parsed = parseSignatureHeaders(req.headers, { legacy: false })
  assert.ok(parsed)
  const publicKey = Buffer.from(vector.key.public_jwk.x, 'base64url')
  assert.equal(await ed.verifyAsync(parsed.signature, Buffer.from(buildSignatureBase(parsed, req)), publicKey), true)
})

test('refuses RFC 9421 B.2.6 under the AAuth profile, which needs signature-key covered', () => {
  const parsed = parseSignatureHeaders(signedRequest(vector).headers, { legacy: false })
  assert.ok(parsed)
  assertSignatureError(() => checkCoveredComponents(parsed, []), 'invalid_input', {
    requiredInput: ['@method', '@authority', '@path', 'signature-key'],
  })
})

import assert from 'node:assert/strict'
import { test } from 'node:test'
import { parseSignatureHeaders } from '../../src/signature/parse.js'
import type { SignedRequest } from '../../src/signature/types.js'
import { verifyRequestSignature } from '../../src/signature/verify.js'
import { assertRejectsWithSignatureError } from '../helpers/signature-assert.js'
import { testKeyPair, type TestKeyPair } from '../helpers/signature-keys.js'
import { baseRequest, signRequest } from '../helpers/signature-signing.js'

function parsedOf(req: SignedRequest) {
  const parsed = parseSignatureHeaders(req.headers, { legacy: false })
  assert.ok(parsed)
  return parsed
}

function signed(pair: TestKeyPair, req = baseRequest(), components?: string[]) {
  return signRequest(pair, req, components === undefined ? {} : { components })
}

for (const alg of ['Ed25519', 'ES256'] as const) {
  test(`accepts a request signed with an ${alg} key`, async () => {
    const pair = testKeyPair(alg)
    const req = signed(pair)
    await verifyRequestSignature(parsedOf(req), req, pair.verifyKey)
  })

  test(`refuses an ${alg} signature by another key with invalid_signature`, async () => {
    const req = signed(testKeyPair(alg))
    await assertRejectsWithSignatureError(verifyRequestSignature(parsedOf(req), req, testKeyPair(alg).verifyKey), 'invalid_signature')
  })
}

test('refuses a request whose method, authority, path or Signature-Key changed with invalid_signature', async () => {
  const pair = testKeyPair('Ed25519')
  const req = signed(pair)
  const parsed = parsedOf(req)
  for (const tampered of [
    { ...req, method: 'POST' },
    { ...req, authority: 'other.example.com' },
    { ...req, path: '/data/x' },
    { ...req, headers: { ...req.headers, 'signature-key': `${String(req.headers['signature-key'])};extra=1` } },
  ]) {
    await assertRejectsWithSignatureError(verifyRequestSignature(parsed, tampered, pair.verifyKey), 'invalid_signature')
  }
})

test('covers @query only when the signature lists it', async () => {
  const pair = testKeyPair('Ed25519')
  const loose = signed(pair, baseRequest({ query: '?a=1' }))
  await verifyRequestSignature(parsedOf(loose), { ...loose, query: '?a=2' }, pair.verifyKey)
  const strict = signed(pair, baseRequest({ query: '?a=1' }), ['@method', '@authority', '@path', '@query', 'signature-key'])
  await assertRejectsWithSignatureError(verifyRequestSignature(parsedOf(strict), { ...strict, query: '?a=2' }, pair.verifyKey), 'invalid_signature')
})

test('refuses a request missing a covered header with invalid_input', async () => {
  const pair = testKeyPair('Ed25519')
  const req = signed(pair, baseRequest({ headers: { 'content-type': 'application/json' } }), [
    '@method',
    '@authority',
    '@path',
    'signature-key',
    'content-type',
  ])
  const { 'content-type': _dropped, ...rest } = req.headers
  await assertRejectsWithSignatureError(verifyRequestSignature(parsedOf(req), { ...req, headers: rest }, pair.verifyKey), 'invalid_input')
})

test('refuses a signature whose bytes were truncated with invalid_signature', async () => {
  const pair = testKeyPair('Ed25519')
  const req = signed(pair)
  const parsed = parsedOf(req)
  await assertRejectsWithSignatureError(verifyRequestSignature({ ...parsed, signature: parsed.signature.subarray(0, 32) }, req, pair.verifyKey),
    'invalid_signature',
  )
})

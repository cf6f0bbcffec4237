import { createHash } from 'node:crypto'
import { test } from 'node:test'
import { checkContentDigest } from '../../src/signature/digest.js'
import { assertSignatureError } from '../helpers/signature-assert.js'

const BODY = Buffer.from('{"hello": "world"}')

function digest(alg: 'sha256' | 'sha512', body: Buffer = BODY): string {
  return createHash(alg).update(body).digest('base64')
}

const SHA256 = `sha-256=:${digest('sha256')}:`
const SHA512 = `sha-512=:${digest('sha512')}:`
const OTHER = Buffer.from('{"hello": "there"}')

test('accepts a matching sha-256 digest', () => {
  checkContentDigest(SHA256, BODY)
})

test('accepts a matching sha-512 digest', () => {
  checkContentDigest(SHA512, BODY)
})

test('accepts several algorithms when all supported ones match, and ignores unsupported ones', () => {
  checkContentDigest(`${SHA512}, ${SHA256}`, BODY)
  checkContentDigest(['md5=:AAAA:', SHA256], BODY)
  checkContentDigest(`unixsum=:AAAA:, ${SHA512};foo`, BODY)
})

test('refuses a sha-256 mismatch with invalid_signature and reason digest_mismatch', () => {
  assertSignatureError(() => checkContentDigest(SHA256, OTHER), 'invalid_signature', { reason: 'digest_mismatch' })
})

test('refuses a sha-512 mismatch with invalid_signature and reason digest_mismatch', () => {
  assertSignatureError(() => checkContentDigest(SHA512, OTHER), 'invalid_signature', { reason: 'digest_mismatch' })
})

test('refuses when one of two supported digests does not match', () => {
  const wrong512 = `sha-512=:${digest('sha512', OTHER)}:`
  assertSignatureError(() => checkContentDigest(`${SHA256}, ${wrong512}`, BODY), 'invalid_signature', {
    reason: 'digest_mismatch',
  })
})

test('refuses a digest of the wrong length as a mismatch', () => {
  assertSignatureError(() => checkContentDigest('sha-256=:AAAA:', BODY), 'invalid_signature', { reason: 'digest_mismatch' })
})

test('matches an empty body', () => {
  checkContentDigest(`sha-256=:${digest('sha256', Buffer.alloc(0))}:`, Buffer.alloc(0))
})

test('refuses an absent Content-Digest with invalid_input', () => {
  assertSignatureError(() => checkContentDigest(undefined, BODY), 'invalid_input')
})

test('refuses a Content-Digest with no supported algorithm with invalid_input', () => {
  assertSignatureError(() => checkContentDigest('md5=:AAAA:', BODY), 'invalid_input')
  assertSignatureError(() => checkContentDigest('', BODY), 'invalid_input')
})

test('refuses a malformed Content-Digest, or a supported member that is not a byte sequence, with invalid_input', () => {
  for (const value of ['sha-256=:AAAA', 'sha-256="abc"', 'sha-256=(:AAAA:)', 'SHA-256=:AAAA:', 'sha-256=:AA AA:']) {
    assertSignatureError(() => checkContentDigest(value, BODY), 'invalid_input')
  }
})

import assert from 'node:assert/strict'
import { test } from 'node:test'
import { decodeLegacySignature, parseLegacySignatureKey } from '../../src/signature/legacy.js'
import { parseSignatureHeaders } from '../../src/signature/parse.js'
import { assertSignatureError } from '../helpers/signature-assert.js'

const BYTES = Buffer.from(Array.from({ length: 64 }, (_, i) => (i * 37 + 251) % 256))
/** What the January-2026 client sent: unpadded base64url. */
const LEGACY_SIGNATURE = `sig1=:${BYTES.toString('base64url')}:`
const INPUT = 'sig1=("@method" "@authority" "@path" "@query" "signature-key");created=1767225600'
const JWT = 'eyJhbGciOiJFZERTQSIsImtpZCI6ImtleS0xIiwidHlwIjoiYWdlbnQrand0In0.e30.c2ln'

function legacyHeaders(key: string) {
  return { 'signature-input': INPUT, signature: LEGACY_SIGNATURE, 'signature-key': key }
}

test('the legacy signature bytes really use the base64url alphabet', () => {
  assert.match(BYTES.toString('base64url'), /[-_]/)
})

test('reads the legacy jwt form into a jwt member marked legacy', () => {
  const parsed = parseSignatureHeaders(legacyHeaders(`sig1=(scheme=jwt jwt="${JWT}")`), { legacy: true })
  assert.equal(parsed?.label, 'sig1')
  assert.deepEqual(parsed?.key, { scheme: 'jwt', params: new Map([['jwt', JWT]]), legacy: true })
  assert.deepEqual(Buffer.from(parsed?.signature ?? []), BYTES)
  assert.deepEqual(parsed?.components, ['@method', '@authority', '@path', '@query', 'signature-key'])
})

test('reads the legacy hwk form', () => {
  const key = parseSignatureHeaders(
    legacyHeaders('sig1=(scheme=hwk kty="OKP" crv="Ed25519" x="JrQLj5P_89iXES9-vFgrIy29clF9CC_oPPsw3c5D0bs")'),
    { legacy: true },
  )?.key
  assert.equal(key?.scheme, 'hwk')
  assert.deepEqual(Object.fromEntries(key?.params ?? []), {
    kty: 'OKP',
    crv: 'Ed25519',
    x: 'JrQLj5P_89iXES9-vFgrIy29clF9CC_oPPsw3c5D0bs',
  })
})

test('reads the legacy jwks form and keeps the well-known parameter name', () => {
  const key = parseSignatureHeaders(
    legacyHeaders('sig1=(scheme=jwks id="https://agent.example" kid="key-1" well-known="aauth-agent")'),
    { legacy: true },
  )?.key
  assert.equal(key?.scheme, 'jwks')
  assert.deepEqual(Object.fromEntries(key?.params ?? []), {
    id: 'https://agent.example',
    kid: 'key-1',
    'well-known': 'aauth-agent',
  })
})

test('still reads the current form when legacy is on', () => {
  const parsed = parseSignatureHeaders(
    { ...legacyHeaders(`sig1=jwt;jwt="${JWT}"`), signature: `sig1=:${BYTES.toString('base64')}:` },
    { legacy: true },
  )
  assert.deepEqual(parsed?.key, { scheme: 'jwt', params: new Map([['jwt', JWT]]), legacy: false })
})

test('refuses the legacy Signature-Key form with invalid_input when legacy is off', () => {
  const h = { ...legacyHeaders(`sig1=(scheme=jwt jwt="${JWT}")`), signature: `sig1=:${BYTES.toString('base64')}:` }
  assertSignatureError(() => parseSignatureHeaders(h, { legacy: false }), 'invalid_input')
})

test('refuses an unpadded base64url Signature with invalid_input when legacy is off', () => {
  assertSignatureError(
    () => parseSignatureHeaders(legacyHeaders(`sig1=jwt;jwt="${JWT}"`), { legacy: false }),
    'invalid_input',
  )
})

test('refuses a repeated label in the legacy Signature-Key with invalid_input', () => {
  const key = `sig1=(scheme=jwt jwt="${JWT}"), sig1=(scheme=hwk x="a")`
  assertSignatureError(() => parseSignatureHeaders(legacyHeaders(key), { legacy: true }), 'invalid_input')
})

test('unescapes quoted legacy values and accepts extra spaces', () => {
  const key = parseLegacySignatureKey('(  scheme=jwks  id="a\\"b\\\\c"  )')
  assert.equal(key.params.get('id'), 'a"b\\c')
})

test('refuses malformed legacy Signature-Key values with invalid_input', () => {
  for (const raw of [
    '(jwt="x")',
    '(scheme=)',
    '(scheme="")',
    '(scheme=jwt jwt="x)',
    '(scheme=jwt jwt="x" jwt="y")',
    '(scheme=jwt,jwt="x")',
    '(scheme=jwt jwt="x"kid="y")',
    '(scheme=jwt jwt="\\x")',
    '(scheme=jwt jwt="\u00e9")',
    '(Scheme=jwt)',
    '(scheme=jwt);foo',
    'scheme=jwt',
    '(',
    '',
  ]) {
    assertSignatureError(() => parseLegacySignatureKey(raw), 'invalid_input')
  }
})

test('decodes legacy signatures in either base64 alphabet, padded or not', () => {
  for (const encoded of [BYTES.toString('base64url'), BYTES.toString('base64'), BYTES.toString('base64').replace(/=+$/, '')]) {
    assert.deepEqual(Buffer.from(decodeLegacySignature(`:${encoded}:`)), BYTES)
  }
})

test('refuses malformed legacy signatures with invalid_input', () => {
  for (const raw of ['', ':', '::x', 'AAAA', ':AA AA:', ':A*AA:', ':AAAAA:', ':AAAA:;x']) {
    assertSignatureError(() => decodeLegacySignature(raw), 'invalid_input')
  }
})

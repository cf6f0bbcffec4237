import assert from 'node:assert/strict'
import { test } from 'node:test'
import { parseSignatureHeaders } from '../../src/signature/parse.js'
import { assertSignatureError } from '../helpers/signature-assert.js'

const INPUT = 'sig=("@method" "@authority" "@path" "signature-key");created=1700000000'
const BYTES = Buffer.alloc(64, 7)
const SIGNATURE = `sig=:${BYTES.toString('base64')}:`
const KEY = 'sig=jwt;jwt="eyJhbGciOiJFZDI1NTE5In0.e30.c2ln"'

type Headers = Record<string, string | readonly string[] | undefined>

function headers(overrides: Headers = {}): Headers {
  return { 'signature-input': INPUT, signature: SIGNATURE, 'signature-key': KEY, ...overrides }
}

function parse(h: Headers, legacy = false) {
  return parseSignatureHeaders(h, { legacy })
}

test('returns null when none of the three signature headers is sent', () => {
  assert.equal(parse({ host: 'api.example.com' }), null)
})

test('treats whitespace-only signature headers as not sent', () => {
  assert.equal(parse({ 'signature-input': ' ', signature: '', 'signature-key': '\t' }), null)
})

for (const absent of ['signature-input', 'signature', 'signature-key']) {
  test(`refuses a request missing only ${absent} with invalid_signature`, () => {
    assertSignatureError(() => parse(headers({ [absent]: undefined })), 'invalid_signature')
  })
}

test('reads the label, covered components, created and signature bytes', () => {
  const parsed = parse(headers())
  assert.ok(parsed)
  assert.equal(parsed.label, 'sig')
  assert.deepEqual(parsed.components, ['@method', '@authority', '@path', 'signature-key'])
  assert.equal(parsed.created, 1700000000)
  assert.equal(parsed.expires, undefined)
  assert.equal(parsed.keyid, undefined)
  assert.deepEqual(Buffer.from(parsed.signature), BYTES)
})

test('keeps the Signature-Input member byte-exact, spacing and parameter order included', () => {
  const raw = '( "@method"  "@authority" "@path" "signature-key" );expires=1700000060;alg="ed25519";keyid="k-1";created=1700000000'
  const parsed = parse(headers({ 'signature-input': `sig=${raw}` }))
  assert.equal(parsed?.signatureParams, raw)
  assert.equal(parsed?.expires, 1700000060)
  assert.equal(parsed?.keyid, 'k-1')
})

test('ignores the alg parameter and accepts a token keyid', () => {
  const parsed = parse(headers({ 'signature-input': `${INPUT};alg=rsa-v1_5-sha256;keyid=k1` }))
  assert.equal(parsed?.keyid, 'k1')
})

test('reads each current Signature-Key scheme into a scheme and its parameters', () => {
  const cases: Array<[string, string, Record<string, string | number | boolean>]> = [
    ['sig=jwt;jwt="eyJ.e30.c2ln"', 'jwt', { jwt: 'eyJ.e30.c2ln' }],
    [
      'sig=hwk;alg="Ed25519";kty="OKP";crv="Ed25519";x="JrQLj5P_89iXES9-vFgrIy29clF9CC_oPPsw3c5D0bs"',
      'hwk',
      { alg: 'Ed25519', kty: 'OKP', crv: 'Ed25519', x: 'JrQLj5P_89iXES9-vFgrIy29clF9CC_oPPsw3c5D0bs' },
    ],
    [
      'sig=jwks_uri;id="https://agent.example";dwk="aauth-agent.json";kid="key-1"',
      'jwks_uri',
      { id: 'https://agent.example', dwk: 'aauth-agent.json', kid: 'key-1' },
    ],
    ['sig=jwks;url="https://agent.example/jwks.json";kid="key-1"', 'jwks', { url: 'https://agent.example/jwks.json', kid: 'key-1' }],
    ['sig=jwt;jwt="a.b.c";cache;n=5;b=:AQID:;t=tok', 'jwt', { jwt: 'a.b.c', cache: true, n: 5, b: 'AQID', t: 'tok' }],
  ]
  for (const [field, scheme, params] of cases) {
    const key = parse(headers({ 'signature-key': field }))?.key
    assert.equal(key?.scheme, scheme)
    assert.deepEqual(Object.fromEntries(key?.params ?? []), params)
    assert.equal(key?.legacy, false)
  }
})

test('joins several field lines of a header with ", " before parsing', () => {
  const parsed = parse(
    headers({
      'signature-input': ['other=("@method" "signature-key");created=1', INPUT],
      signature: [`other=:${BYTES.toString('base64')}:`, SIGNATURE],
    }),
  )
  assert.equal(parsed?.label, 'sig')
})

test('binds the first Signature-Input label that also has Signature and Signature-Key members', () => {
  const twoInputs = `a=("@method" "signature-key");created=1, b=("@path" "signature-key");created=2`
  const both = `a=:${BYTES.toString('base64')}:, b=:${BYTES.toString('base64')}:`
  const first = parse({ 'signature-input': twoInputs, signature: both, 'signature-key': 'b=jwt;jwt="x", a=hwk;x="y"' })
  assert.equal(first?.label, 'a')
  assert.equal(first?.key.scheme, 'hwk')
  const second = parse({ 'signature-input': twoInputs, signature: both, 'signature-key': 'b=jwt;jwt="x"' })
  assert.equal(second?.label, 'b')
  assert.equal(second?.created, 2)
  assert.equal(second?.signatureParams, '("@path" "signature-key");created=2')
})

test('refuses with invalid_signature when no label is in all three headers', () => {
  assertSignatureError(() => parse(headers({ 'signature-key': 'other=jwt;jwt="x"' })), 'invalid_signature')
  assertSignatureError(() => parse(headers({ signature: `other=:${BYTES.toString('base64')}:` })), 'invalid_signature')
})

test('refuses a label repeated in Signature-Input with invalid_input', () => {
  assertSignatureError(() => parse(headers({ 'signature-input': `${INPUT}, ${INPUT}` })), 'invalid_input')
})

test('refuses a label repeated in Signature with invalid_input', () => {
  assertSignatureError(() => parse(headers({ signature: `${SIGNATURE}, sig=:AAAA:` })), 'invalid_input')
})

test('refuses a label repeated in Signature-Key with invalid_input', () => {
  assertSignatureError(() => parse(headers({ 'signature-key': `${KEY}, sig=hwk;x="y"` })), 'invalid_input')
})

test('refuses a label repeated across two field lines with invalid_input', () => {
  assertSignatureError(() => parse(headers({ 'signature-key': [KEY, 'sig=jwt;jwt="other"'] })), 'invalid_input')
})

test('refuses a second signature that does not cover signature-key with invalid_input', () => {
  const input = `${INPUT}, extra=("@method");created=1`
  assertSignatureError(() => parse(headers({ 'signature-input': input })), 'invalid_input', {
    requiredInput: ['signature-key'],
  })
})

test('refuses a missing or non-integer created with invalid_input', () => {
  for (const input of [
    'sig=("@method" "signature-key")',
    'sig=("@method" "signature-key");created=1.5',
    'sig=("@method" "signature-key");created="1700000000"',
    'sig=("@method" "signature-key");created',
  ]) {
    assertSignatureError(() => parse(headers({ 'signature-input': input })), 'invalid_input')
  }
})

test('refuses a non-integer expires and a non-string keyid with invalid_input', () => {
  assertSignatureError(() => parse(headers({ 'signature-input': `${INPUT};expires="x"` })), 'invalid_input')
  assertSignatureError(() => parse(headers({ 'signature-input': `${INPUT};keyid=12` })), 'invalid_input')
})

test('refuses a Signature-Input member that is not an inner list of strings with invalid_input', () => {
  assertSignatureError(() => parse(headers({ 'signature-input': 'sig="@method";created=1' })), 'invalid_input')
  assertSignatureError(() => parse(headers({ 'signature-input': 'sig=(@method);created=1' })), 'invalid_input')
  assertSignatureError(() => parse(headers({ 'signature-input': 'sig=("@method" 12);created=1' })), 'invalid_input')
})

test('keeps component parameters in the identifier so the components check can refuse them', () => {
  const parsed = parse(headers({ 'signature-input': 'sig=("@method" "content-digest";sf;bs "signature-key");created=1' }))
  assert.deepEqual(parsed?.components, ['@method', 'content-digest;sf;bs', 'signature-key'])
})

test('refuses a Signature member that is not a byte sequence with invalid_input', () => {
  for (const signature of ['sig=abc', 'sig="AAAA"', 'sig=("a")', 'sig=12', 'sig']) {
    assertSignatureError(() => parse(headers({ signature })), 'invalid_input')
  }
})

test('refuses a well-formed Signature-Key member that is not a scheme token with invalid_signature', () => {
  for (const key of ['sig="jwt";jwt="x"', 'sig=("jwt")', 'sig=12', 'sig;jwt="x"']) {
    assertSignatureError(() => parse(headers({ 'signature-key': key })), 'invalid_signature')
  }
})

test('refuses structurally broken headers with invalid_input', () => {
  const broken: Headers[] = [
    { 'signature-input': 'sig=("@method" "signature-key";created=1' },
    { 'signature-input': 'sig=("@method" "signature-key"));created=1' },
    { 'signature-input': `${INPUT},` },
    { 'signature-input': `Sig=("@method");created=1` },
    { 'signature-input': `sig =("@method");created=1` },
    { 'signature-input': 'sig=' },
    { signature: 'sig=:AAAA' },
    { signature: 'sig=:AA*A:' },
    { 'signature-key': 'sig=jwt;jwt="unterminated' },
    { 'signature-key': 'sig=jwt;jwt="x" trailing' },
    { 'signature-key': 'sig=jwt;jwt="\u00e9"' },
    { 'signature-key': 'sig=jwt, , a=b' },
  ]
  for (const h of broken) assertSignatureError(() => parse(headers(h)), 'invalid_input')
})

test('splits members around display strings, where a backslash is not an escape', () => {
  const input = `${INPUT};tag=%"a\\", other=("@method" "signature-key");created=1`
  const parsed = parse(headers({ 'signature-input': input }))
  assert.equal(parsed?.signatureParams, `("@method" "@authority" "@path" "signature-key");created=1700000000;tag=%"a\\"`)
})

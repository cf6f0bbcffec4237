import { fetch as signedFetch } from '@hellocoop/httpsig'
import assert from 'node:assert/strict'
import { createPublicKey } from 'node:crypto'
import { test } from 'node:test'
import { SignatureError } from '../../src/errors.js'
import { checkCoveredComponents } from '../../src/signature/components.js'
import { checkContentDigest } from '../../src/signature/digest.js'
import { checkFreshness } from '../../src/signature/freshness.js'
import { parseSignatureHeaders } from '../../src/signature/parse.js'
import type { ParsedSignature, SignatureAlgorithm, SignedRequest, VerifyKey } from '../../src/signature/types.js'
import { verifyRequestSignature } from '../../src/signature/verify.js'
import { testKeyPair } from '../helpers/signature-keys.js'
import { nowSeconds } from '../helpers/signature-signing.js'

/**
 * `@hellocoop/httpsig` (Signature-Key draft -08) as an independent signer: its dry run returns
 * the headers it would send, and this folder must accept them, and refuse any tampering.
 */
interface Outgoing {
  method: string
  url: string
  headers?: Record<string, string>
  body?: string
}

async function signWithHttpsig(alg: SignatureAlgorithm, out: Outgoing, signatureKey: Parameters<typeof signedFetch>[1]['signatureKey'] = { type: 'hwk' }) {
  const pair = testKeyPair(alg)
  const { headers } = (await signedFetch(out.url, {
    method: out.method,
    headers: out.headers,
    body: out.body,
    signingKey: pair.privateJwk,
    signatureKey,
    dryRun: true,
  })) as { headers: Headers }
  const url = new URL(out.url)
  const req: SignedRequest = {
    method: out.method,
    authority: url.host,
    path: url.pathname,
    query: url.search || '?',
    headers: Object.fromEntries(headers),
  }
  return { req, body: Buffer.from(out.body ?? ''), pair }
}

/** The public key as the `hwk` Signature-Key member carries it: the key a resolver would build. */
function hwkKey(parsed: ParsedSignature): VerifyKey {
  const p = parsed.key.params
  const jwk: Record<string, string> = { kty: String(p.get('kty')), crv: String(p.get('crv')), x: String(p.get('x')) }
  if (p.has('y')) jwk['y'] = String(p.get('y'))
  return { alg: String(p.get('alg')) as SignatureAlgorithm, key: createPublicKey({ key: jwk, format: 'jwk' }), jwk, thumbprint: '' }
}

/** Runs this folder's steps; returns 'valid' or the SignatureError code. */
async function verdict(req: SignedRequest, body: Buffer, key?: VerifyKey): Promise<string> {
  try {
    const parsed = parseSignatureHeaders(req.headers, { legacy: false })
    assert.ok(parsed)
    checkCoveredComponents(parsed, [])
    checkFreshness(parsed, nowSeconds(), 60)
    await verifyRequestSignature(parsed, req, key ?? hwkKey(parsed))
    if (parsed.components.includes('content-digest')) checkContentDigest(req.headers['content-digest'], body)
    return 'valid'
  } catch (e) {
    if (e instanceof SignatureError) return e.code
    throw e
  }
}

const GET: Outgoing = { method: 'GET', url: 'https://api.example.com/data/items?b=2&a=1' }
const POST: Outgoing = {
  method: 'POST',
  url: 'https://api.example.com/data/items',
  headers: { 'content-type': 'application/json' },
  body: '{"hello":"world"}',
}

for (const alg of ['Ed25519', 'ES256'] as const) {
  test(`accepts a GET signed by @hellocoop/httpsig with an ${alg} hwk key`, async () => {
    const { req, body } = await signWithHttpsig(alg, GET)
    assert.equal(await verdict(req, body), 'valid')
  })

  test(`accepts a POST with content-digest signed by @hellocoop/httpsig with an ${alg} key`, async () => {
    const { req, body } = await signWithHttpsig(alg, POST)
    assert.ok(parseSignatureHeaders(req.headers, { legacy: false })?.components.includes('content-digest'))
    assert.equal(await verdict(req, body), 'valid')
  })
}

test('accepts an @hellocoop/httpsig signature on an authority with a port', async () => {
  const { req, body } = await signWithHttpsig('Ed25519', { method: 'GET', url: 'https://api.example.com:8443/data' })
  assert.equal(req.authority, 'api.example.com:8443')
  assert.equal(await verdict(req, body), 'valid')
})

test('reads @hellocoop/httpsig jwt and jwks_uri Signature-Key members and verifies with the signing key', async () => {
  for (const signatureKey of [
    { type: 'jwt', jwt: 'eyJhbGciOiJFZDI1NTE5In0.e30.c2ln' },
    { type: 'jwks_uri', id: 'https://agent.example', kid: 'key-1', dwk: 'aauth-agent.json' },
  ] as const) {
    const { req, body, pair } = await signWithHttpsig('Ed25519', GET, signatureKey)
    const parsed = parseSignatureHeaders(req.headers, { legacy: false })
    assert.equal(parsed?.key.scheme, signatureKey.type)
    assert.equal(await verdict(req, body, pair.verifyKey), 'valid')
  }
})

test('refuses @hellocoop/httpsig requests whose method, path, authority or body was changed', async () => {
  const { req, body } = await signWithHttpsig('Ed25519', POST)
  assert.equal(await verdict({ ...req, method: 'PUT' }, body), 'invalid_signature')
  assert.equal(await verdict({ ...req, path: '/data/other' }, body), 'invalid_signature')
  assert.equal(await verdict({ ...req, authority: 'evil.example.com' }, body), 'invalid_signature')
  assert.equal(await verdict(req, Buffer.from('{"hello":"there"}')), 'invalid_signature')
})

test('refuses an @hellocoop/httpsig request whose content-type was changed', async () => {
  const { req, body } = await signWithHttpsig('ES256', POST)
  assert.equal(await verdict({ ...req, headers: { ...req.headers, 'content-type': 'text/plain' } }, body), 'invalid_signature')
})

import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import { calculateJwkThumbprint } from 'jose'
import { newKey, type DevKey } from '../../src/devkit/keys.js'
import { signRequest } from '../../src/devkit/sign.js'
import { assertSignatureRefusal } from '../helpers/refusal.js'
import { AUTHORITY, send, startTestWorld, type Answer, type TestWorld } from '../helpers/gateway.js'
import { jktJwt } from '../helpers/scheme-tokens.js'

describe('jkt-jwt end to end (Signature-Key -09 §3.5)', () => {
  let world: TestWorld
  const enclave = newKey('ES256')
  const delegate = newKey('Ed25519')

  before(async () => {
    world = await startTestWorld(({ backend }) => ({
      resource: { issuer: 'https://api.test', authority: AUTHORITY },
      signatures: { schemes: ['jkt-jwt', 'hwk'] },
      routes: [{ name: 'data', match: { path_prefix: '/data' }, upstream: backend.url, access: 'pseudonymous' }],
    }))
  })
  after(() => world.close())

  let n = 0
  const call = async (signer: DevKey, jwt: string): Promise<Answer> => {
    const target = `/data/${++n}`
    return send(world.gw, target, { headers: signRequest({ method: 'GET', authority: AUTHORITY, target }, signer, { signatureKey: `jkt-jwt;jwt="${jwt}"` }) })
  }
  const refused = (signer: DevKey, jwt: string, code: string): Promise<void> => assertSignatureRefusal(world.backend, call(signer, jwt), code)

  test('a request signed by cnf.jwk reaches the backend with the jkt identity', async () => {
    const jwt = await jktJwt(enclave, delegate.publicJwk)
    const res = await call(delegate, jwt)
    assert.equal(res.status, 200, res.text)
    const got = world.backend.received.at(-1)!.headers
    assert.equal(got['x-aauth-level'], 'pseudonymous')
    assert.equal(got['x-aauth-scheme'], 'jkt-jwt')
    assert.equal(got['x-aauth-token-type'], 'jkt-s256+jwt')
    assert.equal(got['x-aauth-agent'], JSON.parse(Buffer.from(jwt.split('.')[1]!, 'base64url').toString()).iss)
    assert.equal(got['x-aauth-thumbprint'], await calculateJwkThumbprint(delegate.publicJwk), 'the thumbprint is the delegated key\'s')
  })

  test('refusals: wrong typ, iss not the header key, expired, another key signed, malformed', async () => {
    await refused(delegate, await jktJwt(enclave, delegate.publicJwk, { typ: 'jwt' }), 'invalid_jwt')
    await refused(delegate, await jktJwt(enclave, delegate.publicJwk, { header: { jwk: newKey('ES256').publicJwk } }), 'invalid_jwt')
    await refused(delegate, await jktJwt(enclave, delegate.publicJwk, { now: Math.floor(Date.now() / 1000) - 7200 }), 'expired_jwt')
    await refused(newKey('Ed25519'), await jktJwt(enclave, delegate.publicJwk), 'invalid_signature')
    await refused(delegate, 'eyJhbGciOiJFUzI1NiJ9.e30.', 'invalid_jwt')
  })
})

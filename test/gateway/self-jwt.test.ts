import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import type { JWTPayload } from 'jose'
import type { AgentServer, MintOptions } from '../../src/devkit/agent-server.js'
import { newKey, type DevKey } from '../../src/devkit/keys.js'
import { signRequest } from '../../src/devkit/sign.js'
import { assertSignatureRefusal } from '../helpers/refusal.js'
import { AUTHORITY, send, startTestWorld, type Answer, type TestWorld } from '../helpers/gateway.js'

describe('self-jwt end to end (Signature-Key -09 §3.9)', () => {
  let world: TestWorld
  let issuer: AgentServer

  before(async () => {
    world = await startTestWorld(({ issuers, backend }) => ({
      resource: { issuer: 'https://api.test', authority: AUTHORITY },
      trust: { agent_providers: [issuers[0]!.origin], insecure_issuers: [issuers[0]!.origin] },
      signatures: { schemes: ['self-jwt', 'hwk'] },
      routes: [{ name: 'data', match: { path_prefix: '/data' }, upstream: backend.url, access: 'identified' }],
    }))
    issuer = world.issuers[0]!
  })
  after(() => world.close())

  const mint = (extra: JWTPayload = {}, options: MintOptions = {}): Promise<string> => {
    const now = Math.floor(Date.now() / 1000)
    return issuer.mint({ iss: issuer.origin, dwk: 'aauth-agent.json', aud: 'https://api.test', iat: now, exp: now + 300, ...extra }, { typ: 'aa-event+jwt', ...options })
  }
  let n = 0
  const call = (signer: DevKey, jwt: string): Promise<Answer> => {
    const target = `/data/${++n}`
    return send(world.gw, target, { headers: signRequest({ method: 'GET', authority: AUTHORITY, target }, signer, { signatureKey: `self-jwt;jwt="${jwt}"` }) })
  }
  const refused = (signer: DevKey, jwt: string, code: string): Promise<void> => assertSignatureRefusal(world.backend, call(signer, jwt), code)

  test('signed by the issuer key the JWT names: identified as the issuer', async () => {
    const res = await call(issuer.keys.at(-1)!, await mint())
    assert.equal(res.status, 200, res.text)
    const got = world.backend.received.at(-1)!.headers
    assert.equal(got['x-aauth-level'], 'identified')
    assert.equal(got['x-aauth-scheme'], 'self-jwt')
    assert.equal(got['x-aauth-agent'], issuer.origin)
    assert.equal(got['x-aauth-token-type'], 'aa-event+jwt')
  })

  test('refusals: wrong typ, expired, another key signed the request, cnf present, unknown kid, malformed', async () => {
    const key = issuer.keys.at(-1)!
    await refused(key, await mint({}, { typ: 'aa-agent+jwt' }), 'invalid_jwt')
    await refused(key, await mint({ exp: Math.floor(Date.now() / 1000) - 5 }), 'expired_jwt')
    await refused(newKey('Ed25519'), await mint(), 'invalid_signature')
    await refused(key, await mint({ cnf: { jwk: newKey().publicJwk } }), 'invalid_jwt')
    await refused(key, await mint({}, { kid: 'no-such-key' }), 'unknown_key')
    await refused(key, 'not-a-jwt', 'invalid_jwt')
  })
})

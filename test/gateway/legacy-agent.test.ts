import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import * as ed from '@noble/ed25519'
import { startAgentServer, type AgentServer } from '../../src/devkit/agent-server.js'
import { startBackend, type Backend } from '../../src/devkit/backend.js'
import { AUTHORITY, send, startTestGateway, type TestGateway } from '../helpers/gateway.js'
import { newKey, type DevKey } from '../../src/devkit/keys.js'

/**
 * The January-2026 wire format as the first AAuth client library emitted it (docs/protocol.md
 * "Wire vintages"): label `sig1`, a parenthesised `Signature-Key`, the signature in unpadded
 * base64url, `agent+jwt` tokens with `EdDSA`, keys without `alg`, discovery at
 * `/.well-known/aauth-agent`. The request is signed here by hand with `@noble/ed25519`, not
 * with the project's signer, so both the header bytes and the crypto are independent of it.
 */
async function legacySign(key: DevKey, method: string, target: string, signatureKey: string): Promise<Record<string, string>> {
  const created = Math.floor(Date.now() / 1000)
  const params = `("@method" "@authority" "@path" "signature-key");created=${created}`
  const base = [
    `"@method": ${method}`,
    `"@authority": ${AUTHORITY}`,
    `"@path": ${target}`,
    `"signature-key": sig1=${signatureKey}`,
    `"@signature-params": ${params}`,
  ].join('\n')
  const secret = Buffer.from(key.privateJwk.d as string, 'base64url')
  const signature = await ed.signAsync(new TextEncoder().encode(base), secret)
  return {
    'signature-input': `sig1=${params}`,
    signature: `sig1=:${Buffer.from(signature).toString('base64url')}:`,
    'signature-key': `sig1=${signatureKey}`,
  }
}

describe('the January-2026 (legacy) agent wire format', () => {
  let agent: AgentServer
  let backend: Backend
  let legacyOn: TestGateway
  let legacyOff: TestGateway
  const delegate = newKey('Ed25519')
  const { alg: _alg, ...cnfWithoutAlg } = delegate.publicJwk

  before(async () => {
    agent = await startAgentServer()
    agent.jwks = { kind: 'no-alg' }
    backend = await startBackend()
    const config = (legacy: boolean): Record<string, unknown> => ({
      resource: { issuer: 'https://api.test', authority: AUTHORITY },
      trust: { agent_providers: [agent.origin], insecure_issuers: [agent.origin] },
      signatures: { legacy, schemes: ['jwt', 'jwks', 'hwk'] },
      routes: [
        { name: 'data', match: { path_prefix: '/data-jwks' }, upstream: backend.url, access: 'identified' },
        { name: 'hello', match: { path_prefix: '/hello' }, upstream: backend.url, access: 'pseudonymous' },
      ],
    })
    legacyOn = await startTestGateway(config(true))
    legacyOff = await startTestGateway(config(false))
  })
  after(async () => {
    await Promise.all([legacyOn.close(), legacyOff.close()])
    await backend.close()
    await agent.close()
  })

  const legacyToken = (sub: string): Promise<string> =>
    agent.mint(
      { iss: agent.origin, sub, exp: Math.floor(Date.now() / 1000) + 3600, cnf: { jwk: cnfWithoutAlg } },
      { typ: 'agent+jwt', alg: 'EdDSA' },
    )

  test('accepts a delegate with an agent+jwt, as the seed demo sent it, and forwards agent and delegate', async () => {
    const token = await legacyToken('delegate-1')
    const headers = await legacySign(delegate, 'GET', '/data-jwks', `(scheme=jwt jwt="${token}")`)
    const res = await send(legacyOn, '/data-jwks', { headers })
    assert.equal(res.status, 200, res.text)
    const got = backend.last().headers
    assert.equal(got['x-aauth-agent'], agent.origin)
    assert.equal(got['x-aauth-agent-delegate'], 'delegate-1')
    assert.equal(got['x-aauth-token-type'], 'agent+jwt')
    assert.equal(got['x-aauth-scheme'], 'jwt')
    assert.ok(agent.hitsOn('/.well-known/aauth-agent') >= 1, 'discovered at the legacy well-known document')
  })

  test('accepts the legacy jwks scheme with well-known, and a legacy hwk key without alg', async () => {
    const issuerKey = agent.keys.at(-1)
    assert.ok(issuerKey)
    const jwks = `(scheme=jwks id="${agent.origin}" kid="${issuerKey.kid}" well-known="aauth-agent")`
    const viaJwks = await send(legacyOn, '/data-jwks/k', { headers: await legacySign(issuerKey, 'GET', '/data-jwks/k', jwks) })
    assert.equal(viaJwks.status, 200, viaJwks.text)
    assert.equal(backend.last().headers['x-aauth-agent'], agent.origin)

    const hwk = `(scheme=hwk kty="OKP" crv="Ed25519" x="${delegate.publicJwk.x}")`
    const viaHwk = await send(legacyOn, '/hello', { headers: await legacySign(delegate, 'GET', '/hello', hwk) })
    assert.equal(viaHwk.status, 200, viaHwk.text)
    assert.equal(backend.last().headers['x-aauth-level'], 'pseudonymous')
  })

  test('refuses every legacy form with signatures.legacy: false', async () => {
    const token = await legacyToken('delegate-2')
    const parenthesised = await send(legacyOff, '/data-jwks', {
      headers: await legacySign(delegate, 'GET', '/data-jwks', `(scheme=jwt jwt="${token}")`),
    })
    assert.equal(parenthesised.status, 401)
    assert.match(parenthesised.headers.get('signature-error') ?? '', /^error=invalid_input/)

    // Even in the current header syntax, an agent+jwt with EdDSA is a legacy token.
    const headers = await legacySign(delegate, 'GET', '/data-jwks/c', `jwt;jwt="${token}"`)
    const bytes = Buffer.from(headers.signature?.slice('sig1=:'.length, -1) ?? '', 'base64url')
    headers.signature = `sig1=:${bytes.toString('base64')}:`
    const current = await send(legacyOff, '/data-jwks/c', { headers })
    assert.equal(current.status, 401)
    assert.equal(current.headers.get('signature-error'), 'error=invalid_jwt')
  })
})

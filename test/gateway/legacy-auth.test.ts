import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import type { JWTPayload } from 'jose'
import { signRequest } from '../../src/devkit/sign.js'
import { startAgentServer, type AgentServer } from '../../src/devkit/agent-server.js'
import { RESOURCE_KEY_FILE, resourceKeyFile } from '../helpers/authorization.js'
import { startBackend, type Backend } from '../../src/devkit/backend.js'
import { AUTHORITY, send, startTestGateway, type Answer, type TestGateway } from '../helpers/gateway.js'
import { newKey, type DevKey } from '../../src/devkit/keys.js'

const RESOURCE = 'https://api.test'
const AGENT = 'https://agent.supply-chain.com'

/** A policy over the delegation chain: at most two actors. */
const CHAIN_POLICY = `name: short-chain
rules:
  - require: 'size(aauth.delegation) <= 2'
  - require: '"data.read" in aauth.scope'
`

describe('January-2026 auth tokens (typ auth+jwt, signatures.legacy)', () => {
  // The test issuer plays the January-2026 auth server: `{iss}/.well-known/aauth-issuer` names it,
  // its JWKS keys carry no `alg`, and it signs with the then-usual `alg: EdDSA`.
  let issuer: AgentServer
  let backend: Backend
  let gw: TestGateway
  let strict: TestGateway
  const key = newKey('Ed25519')

  before(async () => {
    issuer = await startAgentServer()
    issuer.jwks = { kind: 'no-alg' }
    backend = await startBackend()
    const config = (legacy: boolean): Record<string, unknown> => ({
      resource: { issuer: RESOURCE, authority: AUTHORITY, signing_key: RESOURCE_KEY_FILE, scopes: { 'data.read': 'Read data' } },
      trust: { access_servers: [issuer.origin], insecure_issuers: [issuer.origin] },
      signatures: { legacy },
      policies: 'policies',
      routes: [
        { name: 'data', match: { path_prefix: '/data' }, upstream: backend.url, access: 'authorized', scopes: ['data.read'] },
        { name: 'chain', match: { path_prefix: '/chain' }, upstream: backend.url, access: 'authorized', policy: 'short-chain' },
      ],
    })
    const files = { [RESOURCE_KEY_FILE]: resourceKeyFile(), 'policies/chain.yaml': CHAIN_POLICY }
    gw = await startTestGateway(config(true), files)
    strict = await startTestGateway(config(false), files)
  })
  after(async () => {
    await gw.close()
    await strict.close()
    await backend.close()
    await issuer.close()
  })

  /** A legacy auth token: no `iat`, `jti` or `dwk`; `cnf.jwk` without `alg`; agent, delegate, scope, act. */
  function legacyAuthToken(claims: JWTPayload = {}): Promise<string> {
    const { alg: _alg, ...cnf } = key.publicJwk
    return issuer.mint(
      {
        iss: issuer.origin,
        aud: RESOURCE,
        sub: 'user-123',
        agent: AGENT,
        agent_delegate: 'delegate-1',
        scope: 'data.read data.write',
        act: { sub: 'https://orchestrator.example', act: { sub: 'https://assistant.example' } },
        cnf: { jwk: cnf },
        exp: Math.floor(Date.now() / 1000) + 600,
        ...claims,
      },
      { typ: 'auth+jwt', alg: 'EdDSA' },
    )
  }

  let n = 0
  /**
   * Signed as the January-2026 client did: label `sig1`, the parenthesised
   * `Signature-Key: sig1=(scheme=jwt jwt="...")`, and the signature in unpadded base64url.
   */
  function callLegacy(target: TestGateway, prefix: string, token: string, signer: DevKey = key): Promise<Answer> {
    const path = `${prefix}/${++n}`
    const headers = signRequest({ method: 'GET', authority: AUTHORITY, target: path }, signer, {
      label: 'sig1',
      signatureKey: `(scheme=jwt jwt="${token}")`,
    })
    const bytes = /^sig1=:(.*):$/.exec(headers.signature ?? '')?.[1] ?? ''
    headers.signature = `sig1=:${Buffer.from(bytes, 'base64').toString('base64url')}:`
    return send(target, path, { headers })
  }

  test('forwards the agent, the delegate, the scopes and the act chain, current actor first', async () => {
    const res = await callLegacy(gw, '/data', await legacyAuthToken())
    assert.equal(res.status, 200, res.text)
    const got = backend.last().headers
    assert.equal(got['x-aauth-level'], 'authorized')
    assert.equal(got['x-aauth-token-type'], 'auth+jwt')
    assert.equal(got['x-aauth-agent'], AGENT)
    assert.equal(got['x-aauth-agent-delegate'], 'delegate-1')
    assert.equal(got['x-aauth-user'], 'user-123')
    assert.equal(got['x-aauth-scope'], 'data.read data.write')
    assert.equal(got['x-aauth-delegation'], 'https://orchestrator.example,https://assistant.example')
    assert.equal(issuer.hitsOn('/.well-known/aauth-issuer'), 1, 'discovery at {iss}/.well-known/aauth-issuer')
  })

  test('writes an actor without sub as its agent claim', async () => {
    const token = await legacyAuthToken({ act: { agent: 'https://orchestrator.example', act: { sub: 'worker-2' } } })
    assert.equal((await callLegacy(gw, '/data', token)).status, 200)
    assert.equal(backend.last().headers['x-aauth-delegation'], 'https://orchestrator.example,worker-2')
  })

  test('a policy on size(aauth.delegation) allows a chain of two and denies a chain of three', async () => {
    assert.equal((await callLegacy(gw, '/chain', await legacyAuthToken())).status, 200)
    const none = await callLegacy(gw, '/chain', await legacyAuthToken({ act: undefined }))
    assert.equal(none.status, 200)
    assert.equal(backend.last().headers['x-aauth-delegation'], undefined, 'absent when there is no act chain')
    const three = await legacyAuthToken({ act: { sub: 'a', act: { sub: 'b', act: { sub: 'c' } } } })
    const res = await callLegacy(gw, '/chain', three)
    assert.equal(res.status, 403, res.text)
    assert.equal(res.json().policy, 'short-chain')
    assert.equal(res.json().rule, "require: size(aauth.delegation) <= 2")
  })

  test('also accepts a legacy auth token in a current-format Signature-Key', async () => {
    const path = `/data/${++n}`
    const headers = signRequest({ method: 'GET', authority: AUTHORITY, target: path }, key, {
      signatureKey: `jwt;jwt="${await legacyAuthToken()}"`,
    })
    assert.equal((await send(gw, path, { headers })).status, 200)
  })

  test('refuses a legacy auth token lacking the route scope with an auth-token challenge', async () => {
    const res = await callLegacy(gw, '/data', await legacyAuthToken({ scope: 'data.write' }))
    assert.equal(res.status, 401)
    assert.match(res.headers.get('aauth-requirement') ?? '', /^requirement=auth-token;resource-token="/)
  })

  test('refuses a legacy auth token for another resource, and one bound to another key', async () => {
    const other = await callLegacy(gw, '/data', await legacyAuthToken({ aud: 'https://other.test' }))
    assert.equal(other.headers.get('signature-error'), 'error=invalid_jwt')
    const stolen = await callLegacy(gw, '/data', await legacyAuthToken(), newKey('Ed25519'))
    assert.equal(stolen.headers.get('signature-error'), 'error=invalid_signature')
  })

  test('refuses a legacy auth token living longer than an hour with invalid_jwt, as a current auth token', async () => {
    const t = Math.floor(Date.now() / 1000)
    const long = await callLegacy(gw, '/data', await legacyAuthToken({ iat: t, exp: t + 3601 }))
    assert.equal(long.status, 401)
    assert.equal(long.headers.get('signature-error'), 'error=invalid_jwt')
    assert.match(String(long.json().detail), /lifetime exceeds 3600 s/)
    // Without iat (the January-2026 norm) the lifetime is at least exp - now: at most an hour plus the window (60 s).
    const far = await callLegacy(gw, '/data', await legacyAuthToken({ exp: t + 3600 + 60 + 120 }))
    assert.equal(far.headers.get('signature-error'), 'error=invalid_jwt')
    assert.equal((await callLegacy(gw, '/data', await legacyAuthToken({ iat: t, exp: t + 3600 }))).status, 200, 'one hour is accepted')
    assert.equal((await callLegacy(gw, '/data', await legacyAuthToken({ exp: t + 3600 }))).status, 200, 'so is an hour left without iat')
  })

  test('refuses legacy auth tokens when signatures.legacy is false', async () => {
    const path = `/data/${++n}`
    const headers = signRequest({ method: 'GET', authority: AUTHORITY, target: path }, key, {
      signatureKey: `jwt;jwt="${await legacyAuthToken()}"`,
    })
    const res = await send(strict, path, { headers })
    assert.equal(res.status, 401)
    assert.equal(res.headers.get('signature-error'), 'error=invalid_jwt')
  })
})

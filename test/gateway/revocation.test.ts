import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import { decodeJwt } from 'jose'
import { signRequest } from '../../src/devkit/sign.js'
import { startAgentServer, type AgentServer, type IssuerKey } from '../../src/devkit/agent-server.js'
import {
  RESOURCE_KEY_FILE,
  assertProblem,
  callWithToken,
  mintAuthToken,
  mintPersonToken,
  newDelegate,
  resourceKeyFile,
} from '../helpers/authorization.js'
import { startBackend, type Backend } from '../../src/devkit/backend.js'
import { AUTHORITY, send, startTestGateway, startTestWorld, type Answer, type TestGateway, type TestWorld } from '../helpers/gateway.js'
import { independentlySigned } from '../helpers/independent-signer.js'
import { newKey } from '../../src/devkit/keys.js'

const RESOURCE = 'https://api.test'
const REVOCATION = '/aauth/revocation'
const BODY_COMPONENTS = ['@method', '@authority', '@path', 'signature-key', 'content-digest', 'content-type']

describe('the revocation endpoint (AAuth -11 §11.12)', () => {
  let agent: AgentServer
  let ps: AgentServer
  let otherPs: AgentServer
  let stranger: AgentServer
  let backend: Backend
  let gw: TestGateway
  const key = newKey('Ed25519')

  let world: TestWorld

  before(async () => {
    world = await startTestWorld(
      ({ issuers, backend }) => {
        const [a, p, other, s] = issuers.map((i) => i.origin)
        return {
          resource: { issuer: RESOURCE, authority: AUTHORITY, signing_key: RESOURCE_KEY_FILE, scopes: { 'data.read': 'Read data' } },
          trust: { agent_providers: [a], person_servers: [p, other], insecure_issuers: [a, p, other, s] },
          routes: [{ name: 'data', match: { path_prefix: '/data' }, upstream: backend.url, access: 'authorized', scopes: ['data.read'] }],
        }
      },
      { issuers: 4, files: { [RESOURCE_KEY_FILE]: resourceKeyFile() } },
    )
    ;({ backend, gw } = world)
    ;[agent, ps, otherPs, stranger] = world.issuers as [AgentServer, AgentServer, AgentServer, AgentServer]
  })
  after(() => world.close())

  const issuerKey = (server: AgentServer): IssuerKey => {
    const k = server.keys.at(-1)
    if (k === undefined) throw new Error('no key')
    return k
  }

  /**
   * A revocation as a server signs it: `jwks_uri` naming itself under `dwk`, covering
   * `content-digest` and `content-type`. Signed by @hellocoop/httpsig, a signer the project did
   * not write, unless `own` asks for the project's signer (to vary the covered components).
   */
  async function revoke(
    server: AgentServer,
    body: string,
    opts: { dwk?: string; components?: readonly string[]; own?: boolean } = {},
  ): Promise<Answer> {
    const k = issuerKey(server)
    const dwk = opts.dwk ?? 'aauth-person.json'
    const init = { method: 'POST', headers: { 'content-type': 'application/json' }, body }
    const headers = opts.own || opts.components
      ? signRequest({ ...init, authority: AUTHORITY, target: REVOCATION }, k, {
          signatureKey: `jwks_uri;id="${server.origin}";dwk="${dwk}";kid="${k.kid}"`,
          components: opts.components ?? BODY_COMPONENTS,
        })
      : await independentlySigned(k.privateJwk, { type: 'jwks_uri', id: server.origin, dwk, kid: k.kid }, REVOCATION, init)
    return send(gw, REVOCATION, { ...init, headers: { ...init.headers, ...headers } })
  }

  const bodyFor = (token: string): string => {
    const { jti, exp } = decodeJwt(token)
    return JSON.stringify({ jti, exp })
  }

  test('a trusted person server revokes an auth token: 200 with an empty body, then revoked_jwt and requirement=person-token', async () => {
    const token = await mintAuthToken(ps, RESOURCE, key)
    assert.equal((await callWithToken(gw, '/data', key, token)).status, 200, 'accepted before revocation')

    const res = await revoke(ps, bodyFor(token))
    assert.equal(res.status, 200, res.text)
    assert.equal(res.text, '')
    assert.equal(backend.received.filter((r) => r.url.startsWith(REVOCATION)).length, 0, 'never forwarded')

    const after = await callWithToken(gw, '/data', key, token)
    assert.equal(after.status, 401)
    assert.equal(after.headers.get('signature-error'), 'error=revoked_jwt')
    assert.equal(after.headers.get('aauth-requirement'), 'requirement=person-token', 'never auth-token with a resource token')
    assertProblem(after, 'revoked_jwt')
  })

  test('a revoked person token is refused with revoked_jwt, and no resource token is minted for it', async () => {
    const token = await mintPersonToken(ps, RESOURCE, key)
    const before = await callWithToken(gw, '/data', key, token)
    assert.equal(before.status, 401)
    assert.match(before.headers.get('aauth-requirement') ?? '', /^requirement=auth-token;resource-token=/)

    assert.equal((await revoke(ps, bodyFor(token))).status, 200)
    const after = await callWithToken(gw, '/data', key, token)
    assert.equal(after.headers.get('signature-error'), 'error=revoked_jwt')
    assert.doesNotMatch(after.headers.get('aauth-requirement') ?? '', /resource-token/)
  })

  test('keys revocations by the verified caller: one person server cannot revoke another one\'s jti', async () => {
    const token = await mintAuthToken(ps, RESOURCE, key)
    assert.equal((await revoke(otherPs, bodyFor(token))).status, 200, 'accepted, and recorded under the caller')
    assert.equal((await callWithToken(gw, '/data', key, token)).status, 200, 'the token of the other issuer still works')
  })

  test('accepts several revocations from one server within the same second', async () => {
    const tokens = await Promise.all([1, 2, 3].map(() => mintAuthToken(ps, RESOURCE, key)))
    const created = Math.floor(Date.now() / 1000)
    for (const token of tokens) {
      const k = issuerKey(ps)
      const body = bodyFor(token)
      const init = { method: 'POST', headers: { 'content-type': 'application/json' }, body }
      const headers = signRequest({ ...init, authority: AUTHORITY, target: REVOCATION }, k, {
        signatureKey: `jwks_uri;id="${ps.origin}";dwk="aauth-person.json";kid="${k.kid}"`,
        components: BODY_COMPONENTS,
        created,
      })
      const res = await send(gw, REVOCATION, { ...init, headers: { ...init.headers, ...headers } })
      assert.equal(res.status, 200, res.text)
    }
    for (const token of tokens) {
      assert.equal((await callWithToken(gw, '/data', key, token)).headers.get('signature-error'), 'error=revoked_jwt')
    }
  })

  test('still refuses a replayed revocation request', async () => {
    const k = issuerKey(ps)
    const body = bodyFor(await mintAuthToken(ps, RESOURCE, key))
    const init = { method: 'POST', headers: { 'content-type': 'application/json' }, body }
    const headers = signRequest({ ...init, authority: AUTHORITY, target: REVOCATION }, k, {
      signatureKey: `jwks_uri;id="${ps.origin}";dwk="aauth-person.json";kid="${k.kid}"`,
      components: BODY_COMPONENTS,
    })
    const request = { ...init, headers: { ...init.headers, ...headers } }
    assert.equal((await send(gw, REVOCATION, request)).status, 200)
    const again = await send(gw, REVOCATION, request)
    assert.equal(again.status, 401)
    assert.equal(again.headers.get('signature-error'), 'error=invalid_signature')
  })

  test('refuses an unsigned revocation with 401 invalid_signature', async () => {
    const token = await mintAuthToken(ps, RESOURCE, key)
    const res = await send(gw, REVOCATION, { method: 'POST', headers: { 'content-type': 'application/json' }, body: bodyFor(token) })
    assert.equal(res.status, 401)
    assert.equal(res.headers.get('signature-error'), 'error=invalid_signature')
    assert.equal((await callWithToken(gw, '/data', key, token)).status, 200, 'nothing was revoked')
  })

  test('refuses a server that is not a trusted person or access server, without fetching its keys', async () => {
    const token = await mintAuthToken(ps, RESOURCE, key)
    const res = await revoke(stranger, bodyFor(token))
    assert.equal(res.status, 401)
    assert.equal(res.headers.get('signature-error'), 'error=invalid_key')
    assert.equal(stranger.hitsOn('/.well-known/aauth-person.json') + stranger.hitsOn('/jwks.json'), 0)
    assert.equal((await callWithToken(gw, '/data', key, token)).status, 200, 'nothing was revoked')
  })

  test('refuses a caller that signs as an agent (agent token or hwk) with 403 unsupported_iss', async () => {
    const token = await mintAuthToken(ps, RESOURCE, key)
    const body = bodyFor(token)
    const init = { method: 'POST', headers: { 'content-type': 'application/json' }, body }
    const delegate = await newDelegate(agent)
    for (const [signer, signatureKey] of [
      [delegate.key, `jwt;jwt="${delegate.agentToken}"`],
      [key, key.hwk],
    ] as const) {
      const headers = signRequest({ ...init, authority: AUTHORITY, target: REVOCATION }, signer, { signatureKey, components: BODY_COMPONENTS })
      const res = await send(gw, REVOCATION, { ...init, headers: { ...init.headers, ...headers } })
      assert.equal(res.status, 403, res.text)
      assert.equal(res.json().error, 'unsupported_iss')
      assert.equal(res.headers.get('signature-error'), null)
    }
    assert.equal((await callWithToken(gw, '/data', key, token)).status, 200, 'nothing was revoked')
  })

  test('requires content-digest and content-type to be covered (invalid_input naming them)', async () => {
    const token = await mintAuthToken(ps, RESOURCE, key)
    const res = await revoke(ps, bodyFor(token), { components: ['@method', '@authority', '@path', 'signature-key', 'content-digest'] })
    assert.equal(res.status, 401)
    assert.match(res.headers.get('signature-error') ?? '', /^error=invalid_input, required_input=\(.*"content-digest" "content-type"\)$/)
  })

  test('refuses a body that does not match its Content-Digest', async () => {
    const k = issuerKey(ps)
    const init = { method: 'POST', headers: { 'content-type': 'application/json' }, body: bodyFor(await mintAuthToken(ps, RESOURCE, key)) }
    const headers = signRequest({ ...init, authority: AUTHORITY, target: REVOCATION }, k, {
      signatureKey: `jwks_uri;id="${ps.origin}";dwk="aauth-person.json";kid="${k.kid}"`,
      components: BODY_COMPONENTS,
    })
    const res = await send(gw, REVOCATION, { ...init, headers: { ...init.headers, ...headers }, body: '{"jti":"other","exp":1}' })
    assert.equal(res.status, 401)
    assert.equal(res.headers.get('signature-error'), 'error=invalid_signature')
  })

  test('answers a malformed body with 400 invalid_request', async () => {
    const exp = Math.floor(Date.now() / 1000) + 600
    for (const body of ['not json', '[]', 'null', '{}', JSON.stringify({ jti: '', exp }), JSON.stringify({ jti: 'x' }), JSON.stringify({ jti: 'x', exp: '123' }), JSON.stringify({ jti: 7, exp }), JSON.stringify({ jti: 'x', exp: 1.5 })]) {
      const res = await revoke(ps, body, { own: true })
      assert.equal(res.status, 400, `${body} -> ${res.status} ${res.text}`)
      assertProblem(res, 'invalid_request')
    }
  })

  test('answers a GET on the revocation endpoint with 405', async () => {
    const res = await send(gw, REVOCATION)
    assert.equal(res.status, 405)
  })
})

describe('the revocation endpoint when agents may not use jwks_uri', () => {
  test('still takes jwks_uri revocations from a trusted person server, while agent routes refuse the scheme', async () => {
    const ps = await startAgentServer()
    const backend = await startBackend()
    const gw = await startTestGateway(
      {
        resource: { issuer: RESOURCE, authority: AUTHORITY, signing_key: RESOURCE_KEY_FILE },
        trust: { person_servers: [ps.origin], insecure_issuers: [ps.origin] },
        signatures: { schemes: ['jwt'] },
        routes: [{ name: 'data', match: { path_prefix: '/data' }, upstream: backend.url, access: 'identified' }],
      },
      { [RESOURCE_KEY_FILE]: resourceKeyFile() },
    )
    try {
      const k = ps.keys.at(-1) ?? ps.addKey()
      const signatureKey = `jwks_uri;id="${ps.origin}";dwk="aauth-person.json";kid="${k.kid}"`
      const body = JSON.stringify({ jti: 'revoked-1', exp: Math.floor(Date.now() / 1000) + 600 })
      const init = { method: 'POST', headers: { 'content-type': 'application/json' }, body }
      const headers = signRequest({ ...init, authority: AUTHORITY, target: REVOCATION }, k, { signatureKey, components: BODY_COMPONENTS })
      const res = await send(gw, REVOCATION, { ...init, headers: { ...init.headers, ...headers } })
      assert.equal(res.status, 200, res.text)

      const agentCall = signRequest({ method: 'GET', authority: AUTHORITY, target: '/data/x' }, k, { signatureKey })
      const refused = await send(gw, '/data/x', { headers: agentCall })
      assert.equal(refused.headers.get('signature-error'), 'error=unsupported_scheme')
      assert.equal(refused.headers.get('accept-signature-scheme'), 'jwt')
    } finally {
      await gw.close()
      await backend.close()
      await ps.close()
    }
  })
})

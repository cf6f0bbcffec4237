import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import { fetch as signedFetch } from '@hellocoop/httpsig'
import { calculateJwkThumbprint, decodeJwt, type JWK } from 'jose'
import { signRequest } from '../../src/devkit/sign.js'
import { startAgentServer, type AgentServer } from '../../src/devkit/agent-server.js'
import {
  RESOURCE_KEY_FILE,
  assertProblem,
  callWithToken,
  mintAuthToken,
  mintPersonToken,
  newDelegate,
  parseRequirement,
  resourceKeyFile,
  resourceTokenOf,
  verifyResourceToken,
  type Delegate,
} from '../helpers/authorization.js'
import { startBackend, type Backend } from '../../src/devkit/backend.js'
import { closedPort } from '../helpers/ports.js'
import { AUTHORITY, send, startTestGateway, type Answer, type TestGateway } from '../helpers/gateway.js'
import { startMockin, type Mockin } from '../helpers/mockin.js'
import { newKey } from '../../src/devkit/keys.js'

/** A `fetch` response read whole, in the shape `send` returns. */
async function answerOf(res: Response): Promise<Answer> {
  const text = await res.text()
  return { status: res.status, headers: res.headers, text, json: () => JSON.parse(text) as Record<string, unknown> }
}

const thumbprint = (jwk: JWK): Promise<string> => calculateJwkThumbprint(jwk, 'sha256')

describe('three-party authorization with @hellocoop/mockin as the person server', () => {
  // Every party is a real server on 127.0.0.1: the test agent server (issues the agent token),
  // mockin (a person server the project did not write; started as a child process, see
  // test/helpers/mockin.ts), the gateway and a backend. The delegate signs every request with
  // @hellocoop/httpsig, and mockin fetches the gateway's metadata and JWKS to verify the resource
  // token, so the gateway's issuer is its real loopback origin.
  let agent: AgentServer
  let mockin: Mockin
  let backend: Backend
  let gw: TestGateway
  let resource: string

  before(async () => {
    agent = await startAgentServer()
    mockin = await startMockin()
    backend = await startBackend()
    const port = await closedPort()
    resource = `http://127.0.0.1:${port}`
    gw = await startTestGateway(
      {
        listen: `127.0.0.1:${port}`,
        resource: { issuer: resource, signing_key: RESOURCE_KEY_FILE, scopes: { 'data.read': 'Read data', 'data.write': 'Write data' } },
        trust: {
          agent_providers: [agent.origin],
          person_servers: [mockin.origin],
          insecure_issuers: [agent.origin, mockin.origin],
        },
        routes: [
          { name: 'data', match: { path_prefix: '/data' }, upstream: backend.url, access: 'authorized', scopes: ['data.read'] },
          { name: 'write', match: { path_prefix: '/write' }, upstream: backend.url, access: 'authorized', scopes: ['data.write'] },
        ],
      },
      { [RESOURCE_KEY_FILE]: resourceKeyFile() },
    )
  })
  after(async () => {
    await gw?.close()
    await backend?.close()
    await mockin?.close()
    await agent?.close()
  })

  let n = 0
  /** The delegate calls the gateway, signing with @hellocoop/httpsig and presenting `jwt`. */
  async function callGateway(delegate: Delegate, jwt: string, prefix = '/data'): Promise<Answer> {
    const res = await signedFetch(`${gw.url}${prefix}/${++n}`, {
      method: 'GET',
      signingKey: delegate.key.privateJwk,
      signatureKey: { type: 'jwt', jwt },
    })
    return answerOf(res)
  }

  /** The delegate POSTs JSON to a mockin endpoint, signed with its agent token (content-digest and content-type covered). */
  async function callPersonServer(url: string, delegate: Delegate, body: Record<string, unknown>): Promise<Record<string, unknown>> {
    const res = await signedFetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
      signingKey: delegate.key.privateJwk,
      signatureKey: { type: 'jwt', jwt: delegate.agentToken },
      contentDigest: 'require',
    })
    const text = await res.text()
    assert.equal(res.status, 200, `${url} answered ${res.status}: ${text}\nmockin output:\n${mockin.output()}`)
    return JSON.parse(text) as Record<string, unknown>
  }

  test('agent token, person token, resource token and auth token lead to 200 with the authorized identity', async () => {
    const delegate = await newDelegate(agent, 'aauth:assistant@agent.test')
    const ps = (await (await fetch(`${mockin.origin}/.well-known/aauth-person.json`)).json()) as Record<string, string>
    assert.equal(ps.issuer, mockin.origin)

    // 1. The agent token identifies the agent, but the route needs a person first.
    const first = await callGateway(delegate, delegate.agentToken)
    assert.equal(first.status, 401, first.text)
    assert.equal(first.headers.get('aauth-requirement'), 'requirement=person-token')
    assert.equal(first.headers.get('signature-error'), null)
    assertProblem(first, 'person-token')

    // 2. The person server issues a person token for this resource.
    const personToken = (await callPersonServer(ps.person_token_endpoint as string, delegate, { resource })).person_token as string
    assert.equal(typeof personToken, 'string')
    const person = decodeJwt(personToken)
    assert.equal(person.iss, mockin.origin)
    assert.equal(person.aud, resource)

    // 3. A person token is identity, not authorization: the gateway answers with a resource token.
    const second = await callGateway(delegate, personToken)
    assert.equal(second.status, 401, second.text)
    assert.equal(second.headers.get('signature-error'), null)
    assertProblem(second, 'auth-token')
    const resourceToken = resourceTokenOf(second)
    const { payload: rt } = await verifyResourceToken(gw, resourceToken)
    assert.equal(rt.iss, resource)
    assert.equal(rt.dwk, 'aauth-resource.json')
    assert.equal(rt.aud, mockin.origin, 'three-party: the resource token goes to the person server')
    assert.equal(rt.ps, mockin.origin)
    assert.equal(rt.agent_jkt, await thumbprint(delegate.key.publicJwk as JWK))
    assert.equal(rt.presented_jti, person.jti)
    assert.equal(rt.person_token_jti, person.jti, 'the pre-rename alias mockin 2.0 reads')
    assert.equal(rt.sub, person.sub)
    assert.equal(rt.scope, 'data.read')
    assert.equal(typeof rt.jti, 'string')
    assert.ok(typeof rt.iat === 'number' && typeof rt.exp === 'number' && rt.exp - rt.iat <= 300 && rt.exp > rt.iat)
    assert.equal(rt.cnf, undefined, 'a resource token carries no cnf')
    assert.equal(rt.agent, undefined, 'a resource token carries no agent identifier')

    // 4. The person server verifies the resource token (fetching the gateway's JWKS) and issues an auth token.
    const authToken = (await callPersonServer(ps.auth_token_endpoint as string, delegate, {
      resource_token: resourceToken,
      presented_token: personToken,
    })).auth_token as string
    const auth = decodeJwt(authToken)
    assert.equal(auth.iss, mockin.origin)
    assert.equal(auth.aud, resource)
    assert.equal(auth.scope, 'data.read')

    // 5. The auth token is accepted, and the backend is told who and what was authorized.
    const third = await callGateway(delegate, authToken)
    assert.equal(third.status, 200, third.text)
    const got = backend.last().headers
    assert.equal(got['x-aauth-level'], 'authorized')
    assert.equal(got['x-aauth-scheme'], 'jwt')
    assert.equal(got['x-aauth-user'], auth.sub)
    assert.equal(got['x-aauth-user'], person.sub, 'the directed sub is the same in the person and the auth token')
    assert.equal(got['x-aauth-scope'], 'data.read')
    assert.equal(got['x-aauth-token-type'], 'aa-auth+jwt')
    assert.equal(got['x-aauth-thumbprint'], await thumbprint(delegate.key.publicJwk as JWK))
    assert.equal(got['x-aauth-agent'], undefined, 'a -11 auth token names no agent')
  })

  test('a step-up on a mockin auth token names that token in presented_jti and asks for the union of scopes', async () => {
    const delegate = await newDelegate(agent)
    const ps = (await (await fetch(`${mockin.origin}/.well-known/aauth-person.json`)).json()) as Record<string, string>
    const personToken = (await callPersonServer(ps.person_token_endpoint as string, delegate, { resource })).person_token as string
    const challenge = await callGateway(delegate, personToken)
    const authToken = (await callPersonServer(ps.auth_token_endpoint as string, delegate, {
      resource_token: resourceTokenOf(challenge),
      presented_token: personToken,
    })).auth_token as string

    const res = await callGateway(delegate, authToken, '/write')
    assert.equal(res.status, 401, res.text)
    assert.equal(res.headers.get('signature-error'), null)
    const { payload: rt } = await verifyResourceToken(gw, resourceTokenOf(res))
    const auth = decodeJwt(authToken)
    assert.equal(rt.presented_jti, auth.jti)
    assert.equal(rt.person_token_jti, undefined)
    assert.equal(rt.aud, mockin.origin)
    assert.equal(rt.ps, auth.ps)
    assert.equal(rt.sub, auth.sub)
    assert.deepEqual(String(rt.scope).split(' ').sort(), ['data.read', 'data.write'])
    // Not exchanged here: mockin 2.0 requires person_token_jti and resolves it among the person
    // tokens it issued (its -11 "step 6"), so it refuses a step-up resource token, which names an
    // auth token (it answers 400 invalid_resource_token). The exchange half of a step-up is tested below with the test
    // issuer as the person server ('step-up from data.read to data.write').
  })

  test('serves its resource metadata and the JWKS that verifies its resource tokens', async () => {
    const res = await fetch(`${gw.url}/.well-known/aauth-resource.json`)
    assert.equal(res.status, 200)
    assert.match(res.headers.get('content-type') ?? '', /^application\/json/)
    const metadata = (await res.json()) as Record<string, unknown>
    assert.equal(metadata.issuer, resource)
    assert.equal(metadata.jwks_uri, `${resource}/.well-known/aauth-resource-jwks.json`)
    assert.equal(metadata.revocation_endpoint, `${resource}/aauth/revocation`)
    assert.equal(metadata.signature_window, 60)
    assert.deepEqual(metadata.scope_descriptions, { 'data.read': 'Read data', 'data.write': 'Write data' })
    const jwks = (await (await fetch(metadata.jwks_uri as string)).json()) as { keys: Record<string, unknown>[] }
    assert.equal(jwks.keys.length, 1)
    const [key] = jwks.keys
    assert.equal(key?.kid, 'resource-key-1')
    assert.equal(key?.alg, 'Ed25519')
    assert.equal(key?.d, undefined, 'only the public key is published')
  })
})

describe('auth tokens the gateway refuses', () => {
  // The test issuer plays the person server here, so each token can be made wrong in one way.
  const RESOURCE = 'https://api.test'
  let agent: AgentServer
  let ps: AgentServer
  let stranger: AgentServer
  let backend: Backend
  let gw: TestGateway

  before(async () => {
    agent = await startAgentServer()
    ps = await startAgentServer()
    stranger = await startAgentServer()
    backend = await startBackend()
    gw = await startTestGateway(
      {
        resource: { issuer: RESOURCE, authority: AUTHORITY, signing_key: RESOURCE_KEY_FILE, scopes: { 'data.read': 'Read data', 'data.write': 'Write data' } },
        trust: {
          agent_providers: [agent.origin],
          person_servers: [ps.origin],
          insecure_issuers: [agent.origin, ps.origin, stranger.origin],
        },
        routes: [
          { name: 'data', match: { path_prefix: '/data' }, upstream: backend.url, access: 'authorized', scopes: ['data.read'] },
          { name: 'write', match: { path_prefix: '/write' }, upstream: backend.url, access: 'authorized', scopes: ['data.write'] },
          { name: 'any', match: { path_prefix: '/any' }, upstream: backend.url, access: 'authorized' },
        ],
      },
      { [RESOURCE_KEY_FILE]: resourceKeyFile() },
    )
  })
  after(async () => {
    await gw.close()
    await backend.close()
    await stranger.close()
    await ps.close()
    await agent.close()
  })

  const key = newKey('Ed25519')

  function assertSignatureError(res: Answer, code: string): void {
    assert.equal(res.status, 401, res.text)
    assert.equal(res.headers.get('signature-error'), `error=${code}`)
    assert.equal(res.headers.get('aauth-requirement'), null)
    assert.equal(res.json().error, code)
    assert.equal(res.json().type, `urn:ietf:params:sig-error:${code}`)
    assert.equal(res.headers.get('content-type'), 'application/problem+json')
  }

  test('accepts a well-formed auth token (the baseline the refusals below depart from)', async () => {
    const res = await callWithToken(gw, '/data', key, await mintAuthToken(ps, RESOURCE, key))
    assert.equal(res.status, 200, res.text)
    assert.equal(backend.last().headers['x-aauth-user'], 'person-1')
  })

  test('never accepts a person token as authorization: it gets the auth-token challenge, even on a route with no scopes', async () => {
    const token = await mintPersonToken(ps, RESOURCE, key)
    for (const prefix of ['/data', '/any']) {
      const res = await callWithToken(gw, prefix, key, token)
      assert.equal(res.status, 401, res.text)
      assert.equal(parseRequirement(res.headers.get('aauth-requirement')).requirement, 'auth-token')
      assert.equal(res.headers.get('signature-error'), null)
      const { payload } = await verifyResourceToken(gw, resourceTokenOf(res))
      assert.equal(payload.presented_jti, decodeJwt(token).jti)
    }
  })

  test('refuses an auth token addressed to another resource with invalid_jwt', async () => {
    const token = await mintAuthToken(ps, RESOURCE, key, { aud: 'https://other.test' })
    assertSignatureError(await callWithToken(gw, '/data', key, token), 'invalid_jwt')
  })

  test('refuses an auth token from an issuer not in trust.person_servers with invalid_jwt, without fetching its keys', async () => {
    const token = await mintAuthToken(stranger, RESOURCE, key)
    assertSignatureError(await callWithToken(gw, '/data', key, token), 'invalid_jwt')
    assert.equal(stranger.hitsOn('/.well-known/aauth-person.json') + stranger.hitsOn('/jwks.json'), 0)
  })

  test('refuses an auth token issued as an access server by an issuer trusted only as a person server', async () => {
    const token = await mintAuthToken(ps, RESOURCE, key, { dwk: 'aauth-access.json' })
    assertSignatureError(await callWithToken(gw, '/data', key, token), 'invalid_jwt')
  })

  test('refuses an auth token whose cnf.jwk is not the key that signed the request with invalid_signature', async () => {
    const other = newKey('Ed25519')
    const token = await mintAuthToken(ps, RESOURCE, other)
    assertSignatureError(await callWithToken(gw, '/data', key, token), 'invalid_signature')
  })

  test('refuses an expired auth token with expired_jwt', async () => {
    const t = Math.floor(Date.now() / 1000)
    const token = await mintAuthToken(ps, RESOURCE, key, { iat: t - 700, exp: t - 1 })
    assertSignatureError(await callWithToken(gw, '/data', key, token), 'expired_jwt')
  })

  test('refuses an auth token whose lifetime exceeds one hour with invalid_jwt', async () => {
    const t = Math.floor(Date.now() / 1000)
    const token = await mintAuthToken(ps, RESOURCE, key, { iat: t, exp: t + 3601 })
    assertSignatureError(await callWithToken(gw, '/data', key, token), 'invalid_jwt')
    const exactlyAnHour = await mintAuthToken(ps, RESOURCE, key, { iat: t, exp: t + 3600 })
    assert.equal((await callWithToken(gw, '/data', key, exactlyAnHour)).status, 200)
  })

  test('refuses an auth token without sub with invalid_jwt', async () => {
    const token = await mintAuthToken(ps, RESOURCE, key, { sub: undefined })
    assertSignatureError(await callWithToken(gw, '/data', key, token), 'invalid_jwt')
  })

  test('refuses an auth token signed by a key the person server does not publish with invalid_jwt', async () => {
    const forged = { ...newKey('Ed25519'), kid: ps.keys[0]?.kid ?? 'key' }
    const token = await mintAuthToken(ps, RESOURCE, key, {}, { key: forged })
    assertSignatureError(await callWithToken(gw, '/data', key, token), 'invalid_jwt')
  })

  describe('step-up from data.read to data.write', () => {
    test('answers an auth token lacking a scope with a resource token naming it and the union of scopes', async () => {
      const readToken = await mintAuthToken(ps, RESOURCE, key, { scope: 'data.read', sub: 'person-7' })
      const res = await callWithToken(gw, '/write', key, readToken, 'POST')
      assert.equal(res.status, 401, res.text)
      assert.equal(res.headers.get('signature-error'), null, 'a step-up is a requirement, not a signature error')
      assertProblem(res, 'auth-token')
      const { payload } = await verifyResourceToken(gw, resourceTokenOf(res))
      const presented = decodeJwt(readToken)
      assert.equal(payload.presented_jti, presented.jti, 'presented_jti is the auth token jti')
      assert.equal(payload.person_token_jti, undefined, 'the pre-rename alias names person tokens only')
      assert.equal(payload.sub, 'person-7')
      assert.equal(payload.ps, ps.origin)
      assert.equal(payload.aud, ps.origin)
      assert.equal(payload.agent_jkt, await thumbprint(key.publicJwk as JWK))
      assert.deepEqual(String(payload.scope).split(' ').sort(), ['data.read', 'data.write'])
    })

    test('forwards once an auth token carries both scopes', async () => {
      const both = await mintAuthToken(ps, RESOURCE, key, { scope: 'data.read data.write' })
      const res = await callWithToken(gw, '/write', key, both, 'POST')
      assert.equal(res.status, 200, res.text)
      assert.equal(backend.last().headers['x-aauth-scope'], 'data.read data.write')
      assert.equal(backend.last().method, 'POST')
    })
  })

  describe('challenges carry exactly what the agent needs next', () => {
    test('unsigned: requirement=agent-token with Accept-Signature-Scheme and -Alg, no Signature-Error, no resource token', async () => {
      const res = await send(gw, '/data/unsigned')
      assert.equal(res.status, 401)
      assert.equal(res.headers.get('aauth-requirement'), 'requirement=agent-token')
      assert.equal(res.headers.get('accept-signature-scheme'), 'jwt, jwks_uri, hwk')
      assert.equal(res.headers.get('accept-signature-alg'), 'Ed25519, ES256')
      assert.equal(res.headers.get('signature-error'), null)
      assert.equal(res.headers.get('www-authenticate'), null, 'AAuth never uses WWW-Authenticate')
      assertProblem(res, 'agent-token')
    })

    test('pseudonymous (hwk) on an authorized route: requirement=agent-token', async () => {
      const target = '/data/hwk'
      const headers = signRequest({ method: 'GET', authority: AUTHORITY, target }, key, { signatureKey: key.hwk })
      const res = await send(gw, target, { headers })
      assert.equal(res.status, 401)
      assert.equal(res.headers.get('aauth-requirement'), 'requirement=agent-token')
      assert.equal(res.headers.get('signature-error'), null)
      assert.equal(res.headers.get('accept-signature-scheme'), null, 'a signed request already knows how to sign')
      assertProblem(res, 'agent-token')
    })

    test('agent token: requirement=person-token with no parameters and no Signature-Error', async () => {
      const delegate = await newDelegate(agent)
      const res = await callWithToken(gw, '/data', delegate.key, delegate.agentToken)
      assert.equal(res.status, 401)
      const parsed = parseRequirement(res.headers.get('aauth-requirement'))
      assert.equal(parsed.requirement, 'person-token')
      assert.equal(parsed.params.size, 0, 'no resource token before a person is known')
      assert.equal(res.headers.get('signature-error'), null)
      assert.equal(res.headers.get('cache-control'), 'no-store')
      assertProblem(res, 'person-token')
    })

    test('person token: requirement=auth-token with exactly one parameter, resource-token', async () => {
      const res = await callWithToken(gw, '/data', key, await mintPersonToken(ps, RESOURCE, key))
      assert.equal(res.status, 401)
      const parsed = parseRequirement(res.headers.get('aauth-requirement'))
      assert.equal(parsed.requirement, 'auth-token')
      assert.deepEqual([...parsed.params.keys()], ['resource-token'])
      assert.equal(res.headers.get('signature-error'), null)
      assert.equal(res.headers.get('cache-control'), 'no-store')
      assertProblem(res, 'auth-token')
      assert.ok(!res.text.includes(String(parsed.params.get('resource-token'))), 'the body does not repeat the token')
    })

    test('a refused token: Signature-Error only, with no AAuth-Requirement', async () => {
      const res = await callWithToken(gw, '/data', key, await mintAuthToken(ps, RESOURCE, key, { aud: 'https://other.test' }))
      assert.equal(res.headers.get('aauth-requirement'), null)
      assert.equal(res.headers.get('signature-error'), 'error=invalid_jwt')
    })

    test('serves /.well-known/aauth-resource.json with issuer, jwks_uri, scopes, window and revocation endpoint', async () => {
      const metadata = (await send(gw, '/.well-known/aauth-resource.json')).json()
      assert.equal(metadata.issuer, RESOURCE)
      assert.equal(metadata.jwks_uri, `${RESOURCE}/.well-known/aauth-resource-jwks.json`)
      assert.equal(metadata.revocation_endpoint, `${RESOURCE}/aauth/revocation`)
      assert.equal(metadata.signature_window, 60)
      assert.deepEqual(metadata.scope_descriptions, { 'data.read': 'Read data', 'data.write': 'Write data' })
      assert.equal(metadata.access_mode, 'auth-token')
    })
  })
})

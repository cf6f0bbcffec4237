import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import { decodeJwt } from 'jose'
import { startAgentServer, type AgentServer } from '../../src/devkit/agent-server.js'
import { startBackend, type Backend } from '../../src/devkit/backend.js'
import { newKey, type DevKey } from '../../src/devkit/keys.js'
import { signRequest } from '../../src/devkit/sign.js'
import {
  RESOURCE_KEY_FILE,
  assertProblem,
  mintPersonToken,
  newDelegate,
  parseRequirement,
  resourceKeyFile,
  type Delegate,
} from '../helpers/authorization.js'
import { AUTHORITY, send, startTestGateway, type Answer, type TestGateway } from '../helpers/gateway.js'
import { startRedis, type TestRedis } from '../helpers/redis.js'

/**
 * Resource-managed access (AAuth -11 "Authorization Endpoint Request", "AAuth-Access Response
 * Header"): the gateway's authorization endpoint grants scopes itself under the `grant` policy
 * (a session token in `AAuth-Access`) or answers with a resource token; `session-token` routes
 * take the session back in `Authorization: AAuth`, bound to the key that obtained it.
 */

const RESOURCE = 'https://api.test'
/** Grants when the person token's person is `person-1`; anyone else goes to the person server. */
const GRANT_POLICY = `name: grant
rules:
  - allow: aauth.user == "person-1"
`

function config(ps: AgentServer, backend: Backend, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    resource: {
      issuer: RESOURCE,
      signing_key: RESOURCE_KEY_FILE,
      scopes: { 'data.read': 'Read data', 'data.write': 'Write data' },
      authorization: { grant: 'grant', session_lifetime: 600 },
    },
    policies: 'policies',
    trust: { agent_providers: [ps.origin], person_servers: [ps.origin], insecure_issuers: [ps.origin] },
    routes: [
      { name: 'notes', match: { path_prefix: '/notes' }, upstream: backend.url, access: 'session-token', scopes: ['data.read'] },
      { name: 'open', match: { path_prefix: '/open' }, upstream: backend.url, access: 'open' },
    ],
    ...extra,
  }
}

const FILES = { [RESOURCE_KEY_FILE]: resourceKeyFile(), 'policies/grant.yaml': GRANT_POLICY }

let sequence = 0

/** POSTs `body` to the authorization endpoint, signed by `key` presenting `token` (a person token). */
async function authorize(gw: TestGateway, key: DevKey, token: string, body: unknown): Promise<Answer> {
  const target = '/aauth/authorize'
  const text = JSON.stringify(body)
  const headers = { 'content-type': 'application/json' }
  const signed = signRequest({ method: 'POST', authority: AUTHORITY, target, headers, body: text }, key, { signatureKey: `jwt;jwt="${token}"` })
  return send(gw, target, { method: 'POST', headers: { ...headers, ...signed }, body: text })
}

/** GETs a fresh path under /notes signed by `key` (with `token` in Signature-Key), presenting `session`. */
async function callWithSession(
  gw: TestGateway,
  key: DevKey,
  token: string,
  session: string | undefined,
  options: { cover?: boolean } = {},
): Promise<Answer> {
  const target = `/notes/${++sequence}`
  const headers: Record<string, string> = session === undefined ? {} : { authorization: `AAuth ${session}` }
  const components = ['@method', '@authority', '@path', 'signature-key', ...(session !== undefined && options.cover !== false ? ['authorization'] : [])]
  const signed = signRequest({ method: 'GET', authority: AUTHORITY, target, headers }, key, { signatureKey: `jwt;jwt="${token}"`, components })
  return send(gw, target, { headers: { ...headers, ...signed } })
}

describe('resource-managed access: the authorization endpoint and session tokens', () => {
  let ps: AgentServer
  let backend: Backend
  let gw: TestGateway
  let clockMs = Date.now()

  before(async () => {
    ps = await startAgentServer()
    backend = await startBackend()
    gw = await startTestGateway(config(ps, backend), FILES, { clock: () => clockMs })
  })
  after(async () => {
    await gw?.close()
    await backend?.close()
    await ps?.close()
  })

  /** A delegate with a person token for person `sub`, and a session granted for `scope`. */
  async function granted(scope = 'data.read', sub = 'person-1'): Promise<{ delegate: Delegate; person: string; session: string; answer: Answer }> {
    const delegate = await newDelegate(ps)
    const person = await mintPersonToken(ps, RESOURCE, delegate.key, { sub })
    const answer = await authorize(gw, delegate.key, person, { scope })
    const session = answer.headers.get('aauth-access') ?? ''
    return { delegate, person, session, answer }
  }

  test('metadata advertises the authorization endpoint and the session-token mode', async () => {
    const metadata = (await send(gw, '/.well-known/aauth-resource.json')).json()
    assert.equal(metadata.authorization_endpoint, `${RESOURCE}/aauth/authorize`)
    assert.equal(metadata.access_mode, 'session-token')
  })

  test('the grant policy allows: 200 authorized with an AAuth-Access session token, which opens the session-token route', async () => {
    const { delegate, session, answer } = await granted()
    assert.equal(answer.status, 200, answer.text)
    assert.deepEqual(answer.json(), { status: 'authorized', scope: 'data.read' })
    assert.equal(answer.headers.get('cache-control'), 'no-store')
    assert.match(session, /^[A-Za-z0-9\-._~+/]+=*$/, 'a token68')

    const before = backend.arrived.length
    const ok = await callWithSession(gw, delegate.key, delegate.agentToken, session)
    assert.equal(ok.status, 200, ok.text)
    assert.equal(backend.arrived.length, before + 1)
    const forwarded = backend.last()
    assert.equal(forwarded?.headers['x-aauth-user'], 'person-1')
  })

  test('the grant policy refuses: the answer is a resource token for the person server, and no session', async () => {
    const { answer } = await granted('data.read', 'person-2')
    assert.equal(answer.status, 200, answer.text)
    assert.equal(answer.headers.get('aauth-access'), null)
    const token = answer.json().resource_token
    assert.equal(typeof token, 'string')
    const claims = decodeJwt(token as string)
    assert.equal(claims.aud, ps.origin)
    assert.equal(claims.sub, 'person-2')
    assert.equal(claims.scope, 'data.read')
  })

  test('the endpoint refuses: no person token, bad body, unknown scope, foreign account, wrong method', async () => {
    const delegate = await newDelegate(ps)
    const withAgentToken = await authorize(gw, delegate.key, delegate.agentToken, { scope: 'data.read' })
    assert.equal(withAgentToken.status, 401, withAgentToken.text)
    assert.equal(parseRequirement(withAgentToken.headers.get('aauth-requirement')).requirement, 'person-token')

    const unsigned = await send(gw, '/aauth/authorize', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"scope":"data.read"}' })
    assert.equal(unsigned.status, 401)
    assert.equal(parseRequirement(unsigned.headers.get('aauth-requirement')).requirement, 'person-token')

    const person = await mintPersonToken(ps, RESOURCE, delegate.key)
    const noScope = await authorize(gw, delegate.key, person, { account: 'x' })
    assert.equal(noScope.status, 400)
    assertProblem(noScope, 'invalid_request')
    const unknown = await authorize(gw, delegate.key, person, { scope: 'data.read admin' })
    assert.equal(unknown.status, 400)
    assertProblem(unknown, 'invalid_scope')
    const account = await authorize(gw, delegate.key, person, { scope: 'data.read', account: 'someone-else' })
    assert.equal(account.status, 400)
    assertProblem(account, 'invalid_account')
    const own = await authorize(gw, delegate.key, person, { scope: 'data.read', account: 'person-1' })
    assert.equal(own.status, 200, own.text)

    const expired = await mintPersonToken(ps, RESOURCE, delegate.key, { iat: Math.floor(Date.now() / 1000) - 1200, exp: Math.floor(Date.now() / 1000) - 600 })
    const stale = await authorize(gw, delegate.key, expired, { scope: 'data.read' })
    assert.equal(stale.status, 400, stale.text)
    assertProblem(stale, 'invalid_person_token')

    const get = await send(gw, '/aauth/authorize')
    assert.equal(get.status, 405)
    assert.equal(get.headers.get('allow'), 'POST')
  })

  test('a session token is refused when the signature does not cover authorization', async () => {
    const { delegate, session } = await granted()
    const before = backend.arrived.length
    const res = await callWithSession(gw, delegate.key, delegate.agentToken, session, { cover: false })
    assert.equal(res.status, 401, res.text)
    assert.equal(res.headers.get('signature-error')?.includes('invalid_input'), true)
    assert.equal(backend.arrived.length, before)
  })

  test('a session token replayed by another key is refused, even with that key\'s valid agent token', async () => {
    const { session } = await granted()
    const thief = await newDelegate(ps)
    const before = backend.arrived.length
    const res = await callWithSession(gw, thief.key, thief.agentToken, session)
    assert.equal(res.status, 401, res.text)
    assert.equal(parseRequirement(res.headers.get('aauth-requirement')).requirement, 'person-token')
    assert.match(String(res.json().detail), /another signing key/)
    assert.equal(backend.arrived.length, before)
  })

  test('no session, a forged session, or a malformed credential is refused', async () => {
    const { delegate, session } = await granted()
    const none = await callWithSession(gw, delegate.key, delegate.agentToken, undefined)
    assert.equal(none.status, 401)
    assert.equal(parseRequirement(none.headers.get('aauth-requirement')).requirement, 'person-token')
    // One character changed in the state part: the store knows only the issued value.
    const forged = (session[0] === 'e' ? 'f' : 'e') + session.slice(1)
    const f = await callWithSession(gw, delegate.key, delegate.agentToken, forged)
    assert.equal(f.status, 401)
    const malformed = await callWithSession(gw, delegate.key, delegate.agentToken, `${session}, AAuth ${session}`)
    assert.equal(malformed.status, 400, malformed.text)
    assertProblem(malformed, 'invalid_request')
  })

  test('a session expires on the gateway clock, and is rolled past half its lifetime', async () => {
    const { delegate, session } = await granted()
    clockMs += 400_000 // past half of the 600 s lifetime
    const rolled = await callWithSession(gw, delegate.key, delegate.agentToken, session)
    assert.equal(rolled.status, 200, rolled.text)
    const fresh = rolled.headers.get('aauth-access')
    assert.ok(fresh !== null && fresh !== session, 'a new AAuth-Access value')
    clockMs += 300_000 // the first session is now 700 s old
    const expired = await callWithSession(gw, delegate.key, delegate.agentToken, session)
    assert.equal(expired.status, 401, expired.text)
    assert.match(String(expired.json().detail), /expired/)
    const renewed = await callWithSession(gw, delegate.key, delegate.agentToken, fresh)
    assert.equal(renewed.status, 200, renewed.text)
    clockMs = Date.now()
  })
})

describe('sessions are shared by two gateway instances on one Redis', () => {
  let redis: TestRedis
  let ps: AgentServer
  let backend: Backend
  let one: TestGateway
  let two: TestGateway

  before(async () => {
    ;[redis, ps, backend] = await Promise.all([startRedis(), startAgentServer(), startBackend()])
    const store = { type: 'redis', url: redis.url, key_prefix: 'sessions:' }
    one = await startTestGateway(config(ps, backend, { store }), FILES)
    two = await startTestGateway(config(ps, backend, { store }), FILES)
  })
  after(async () => {
    await one?.close()
    await two?.close()
    await backend?.close()
    await ps?.close()
    await redis?.stop()
  })

  test('a session granted by one instance is accepted by the other, still only with its key', async () => {
    const delegate = await newDelegate(ps)
    const person = await mintPersonToken(ps, RESOURCE, delegate.key)
    const answer = await authorize(one, delegate.key, person, { scope: 'data.read' })
    assert.equal(answer.status, 200, answer.text)
    const session = answer.headers.get('aauth-access') ?? ''
    // The Redis store connects in the background; the grant above already went through it.
    const res = await callWithSession(two, delegate.key, delegate.agentToken, session)
    assert.equal(res.status, 200, res.text)
    const other = newKey('Ed25519')
    const thief = await callWithSession(two, other, await ps.agentToken(other.publicJwk, { sub: 'aauth:thief@agent.test' }), session)
    assert.equal(thief.status, 401)
  })
})

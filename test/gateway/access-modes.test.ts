import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { after, before, describe, test } from 'node:test'
import { stringify } from 'yaml'
import { signRequest } from '../../src/devkit/sign.js'
import { buildSnapshot } from '../../src/config/compile.js'
import { ConfigError } from '../../src/errors.js'
import { startAgentServer, type AgentServer } from '../../src/devkit/agent-server.js'
import {
  RESOURCE_KEY_FILE,
  mintAuthToken,
  mintPersonToken,
  parseRequirement,
  resourceKeyFile,
  resourceTokenOf,
  verifyResourceToken,
} from '../helpers/authorization.js'
import { startBackend, type Backend } from '../../src/devkit/backend.js'
import { AUTHORITY, send, startTestGateway, startTestWorld, type Answer, type TestGateway, type TestWorld } from '../helpers/gateway.js'
import { newKey, type DevKey } from '../../src/devkit/keys.js'

const RESOURCE = 'https://api.test'
const SCOPES = { 'data.read': 'Read data', 'data.write': 'Write data' }
let sequence = 0

/** A signed GET (or unsigned with `signatureKey` undefined) to a fresh path under `prefix`. */
function call(gw: TestGateway, prefix: string, key: DevKey, signatureKey: string | undefined, headers: Record<string, string> = {}, suffix = ''): Promise<Answer> {
  const target = `${prefix}/${++sequence}${suffix}`
  if (signatureKey === undefined) return send(gw, target, { headers })
  return send(gw, target, { headers: { ...headers, ...signRequest({ method: 'GET', authority: AUTHORITY, target, headers }, key, { signatureKey }) } })
}

const jwt = (token: string): string => `jwt;jwt="${token}"`

describe('access modes (AAuth -11 §4.2.3): each mode\'s ladder of challenges', () => {
  let agent: AgentServer
  let ps: AgentServer
  let backend: Backend
  let gw: TestGateway
  const key = newKey('Ed25519')
  let agentToken: string

  before(async () => {
    ;[agent, ps] = await Promise.all([startAgentServer(), startAgentServer()])
    backend = await startBackend()
    agentToken = await agent.agentToken(key.publicJwk, { sub: 'aauth:assistant@agent.test' })
    const route = (name: string, access: string, extra: Record<string, unknown> = {}): Record<string, unknown> => ({
      name,
      match: { path_prefix: `/${name}` },
      upstream: backend.url,
      access,
      ...extra,
    })
    gw = await startTestGateway(
      {
        resource: { issuer: RESOURCE, authority: AUTHORITY, signing_key: RESOURCE_KEY_FILE, scopes: SCOPES, name: 'Test Data', description: '**Test** data service' },
        trust: { agent_providers: [agent.origin], person_servers: [ps.origin], insecure_issuers: [agent.origin, ps.origin] },
        routes: [
          route('agent', 'agent-token'),
          route('identified', 'identified'),
          route('person', 'person-token'),
          route('auth', 'auth-token', { scopes: ['data.read'], components: ['content-type'] }),
          route('authorized', 'authorized', { scopes: ['data.read'] }),
          route('session', 'session-token', { scopes: ['data.write'] }),
        ],
      },
      { [RESOURCE_KEY_FILE]: resourceKeyFile() },
    )
  })
  after(async () => {
    await gw.close()
    await backend.close()
    await Promise.all([agent.close(), ps.close()])
  })

  const requirement = (res: Answer): string => parseRequirement(res.headers.get('aauth-requirement')).requirement

  for (const prefix of ['/agent', '/identified']) {
    test(`agent-token (${prefix}): unsigned and hwk get requirement=agent-token, an agent token passes`, async () => {
      const unsigned = await call(gw, prefix, key, undefined)
      assert.equal(unsigned.status, 401)
      assert.equal(requirement(unsigned), 'agent-token')
      assert.ok(unsigned.headers.get('accept-signature-scheme'), 'an unsigned request learns the schemes')
      const hwk = await call(gw, prefix, key, key.hwk)
      assert.equal(hwk.status, 401)
      assert.equal(requirement(hwk), 'agent-token')
      assert.equal(hwk.headers.get('accept-signature-scheme'), null)
      const ok = await call(gw, prefix, key, jwt(agentToken))
      assert.equal(ok.status, 200, ok.text)
      assert.equal(backend.last().headers['x-aauth-level'], 'identified')
    })
  }

  test('person-token: unsigned and hwk -> agent-token; agent token -> person-token; a person token or an auth token passes', async () => {
    assert.equal(requirement(await call(gw, '/person', key, undefined)), 'agent-token')
    assert.equal(requirement(await call(gw, '/person', key, key.hwk)), 'agent-token')
    const agentOnly = await call(gw, '/person', key, jwt(agentToken))
    assert.equal(agentOnly.status, 401)
    assert.equal(requirement(agentOnly), 'person-token')
    assert.equal(parseRequirement(agentOnly.headers.get('aauth-requirement')).params.size, 0, 'person-token carries no parameters')
    const person = await call(gw, '/person', key, jwt(await mintPersonToken(ps, RESOURCE, key)))
    assert.equal(person.status, 200, person.text)
    assert.equal(backend.last().headers['x-aauth-user'], 'person-1')
    const auth = await call(gw, '/person', key, jwt(await mintAuthToken(ps, RESOURCE, key, { scope: '' })))
    assert.equal(auth.status, 200, auth.text)
    assert.equal(backend.last().headers['x-aauth-token-type'], 'aa-auth+jwt')
  })

  for (const prefix of ['/auth', '/authorized']) {
    test(`auth-token (${prefix}): agent-token, person-token, then a resource token, then 200 with an auth token`, async () => {
      const headers: Record<string, string> = prefix === '/auth' ? { 'content-type': 'text/plain' } : {}
      const sign = (signatureKey: string): Promise<Answer> => {
        const target = `${prefix}/${++sequence}`
        const components = ['@method', '@authority', '@path', 'signature-key', ...(prefix === '/auth' ? ['content-type'] : [])]
        return send(gw, target, { headers: { ...headers, ...signRequest({ method: 'GET', authority: AUTHORITY, target, headers }, key, { signatureKey, components }) } })
      }
      assert.equal(requirement(await call(gw, prefix, key, undefined)), 'agent-token')
      assert.equal(requirement(await sign(key.hwk)), 'agent-token')
      assert.equal(requirement(await sign(jwt(agentToken))), 'person-token')
      const challenged = await sign(jwt(await mintPersonToken(ps, RESOURCE, key)))
      assert.equal(challenged.status, 401)
      const { payload } = await verifyResourceToken(gw, resourceTokenOf(challenged))
      assert.equal(payload.scope, 'data.read')
      const ok = await sign(jwt(await mintAuthToken(ps, RESOURCE, key)))
      assert.equal(ok.status, 200, ok.text)
      assert.equal(backend.last().headers['x-aauth-level'], 'authorized')
    })
  }

  test('session-token: until sessions exist, a missing session takes the resource-token path (never requirement=interaction)', async () => {
    assert.equal(requirement(await call(gw, '/session', key, undefined)), 'agent-token')
    assert.equal(requirement(await call(gw, '/session', key, key.hwk)), 'agent-token')
    assert.equal(requirement(await call(gw, '/session', key, jwt(agentToken), { 'aauth-capabilities': 'interaction' })), 'person-token')
    const challenged = await call(gw, '/session', key, jwt(await mintPersonToken(ps, RESOURCE, key)), { 'aauth-capabilities': 'interaction' })
    assert.equal(challenged.status, 401)
    assert.equal(requirement(challenged), 'auth-token')
    const ok = await call(gw, '/session', key, jwt(await mintAuthToken(ps, RESOURCE, key, { scope: 'data.write' })))
    assert.equal(ok.status, 200, ok.text)
  })

  test('a step-up resource token names only published scopes, whatever the auth token held', async () => {
    const res = await call(gw, '/session', key, jwt(await mintAuthToken(ps, RESOURCE, key, { scope: 'data.read openid unpublished.scope' })))
    assert.equal(res.status, 401)
    const { payload } = await verifyResourceToken(gw, resourceTokenOf(res))
    assert.deepEqual(String(payload.scope).split(' ').sort(), ['data.read', 'data.write'])
  })

  test('login_hint is copied into the resource token from the presented token, else from the request', async () => {
    const viaToken = await call(gw, '/authorized', key, jwt(await mintPersonToken(ps, RESOURCE, key, { login_hint: 'alice@example.com' })))
    assert.equal((await verifyResourceToken(gw, resourceTokenOf(viaToken))).payload.login_hint, 'alice@example.com')
    const viaQuery = await call(gw, '/authorized', key, jwt(await mintPersonToken(ps, RESOURCE, key)), {}, '?login_hint=bob%40example.com')
    assert.equal((await verifyResourceToken(gw, resourceTokenOf(viaQuery))).payload.login_hint, 'bob@example.com')
    const none = await call(gw, '/authorized', key, jwt(await mintPersonToken(ps, RESOURCE, key)))
    assert.equal((await verifyResourceToken(gw, resourceTokenOf(none))).payload.login_hint, undefined)
  })

  test('metadata: name, description, the most used access_mode, and the routes that differ under endpoints', async () => {
    const res = await send(gw, '/.well-known/aauth-resource.json')
    const m = res.json()
    assert.equal(m.name, 'Test Data')
    assert.equal(m.description, '**Test** data service')
    assert.equal(m.access_mode, 'agent-token', 'agent-token and auth-token have two routes each: the first seen wins the tie')
    assert.equal(m.authorization_endpoint, undefined, 'left out unless configured')
    assert.deepEqual(m.additional_signature_components, [], 'only what every route needs')
    const endpoints = m.endpoints as Record<string, unknown>[]
    const byPrefix = new Map(endpoints.map((e) => [e.path_prefix, e]))
    assert.equal(byPrefix.has('/agent'), false, 'a route like the top level is not listed')
    assert.equal(byPrefix.has('/identified'), false)
    assert.deepEqual(byPrefix.get('/person'), { path_prefix: '/person', access_mode: 'person-token' })
    assert.deepEqual(byPrefix.get('/auth'), { path_prefix: '/auth', access_mode: 'auth-token', additional_signature_components: ['content-type'] })
    assert.deepEqual(byPrefix.get('/authorized'), { path_prefix: '/authorized', access_mode: 'auth-token' })
    assert.deepEqual(byPrefix.get('/session'), { path_prefix: '/session', access_mode: 'session-token' })
  })

  test('every answer names the metadata in a Link header (-11 §11.2.5): challenges, forwarded answers, documents', async () => {
    const link = '<https://api.test/.well-known/aauth-resource.json>; rel="aauth-resource"'
    assert.equal((await call(gw, '/agent', key, undefined)).headers.get('link'), link)
    assert.equal((await call(gw, '/agent', key, jwt(agentToken))).headers.get('link'), link)
    assert.equal((await send(gw, '/.well-known/aauth-resource.json')).headers.get('link'), link)
    assert.equal((await send(gw, '/nowhere')).headers.get('link'), link)
  })
})

describe('the Link relation and the metadata of a local (http, port) issuer', () => {
  test('no Link when the issuer is not a server identifier, and authorization_endpoint when configured', async () => {
    const backend = await startBackend()
    const gw = await startTestGateway({
      resource: { issuer: 'http://127.0.0.1:8080', authorization_endpoint: 'https://api.example/authorize' },
      routes: [{ name: 'open', match: { path_prefix: '/' }, upstream: backend.url, access: 'open' }],
    })
    try {
      const res = await send(gw, '/x')
      assert.equal(res.status, 200)
      assert.equal(res.headers.get('link'), null)
      const m = (await send(gw, '/.well-known/aauth-resource.json')).json()
      assert.equal(m.authorization_endpoint, 'https://api.example/authorize')
      assert.equal(m.access_mode, undefined, 'an all-open resource declares no mode')
    } finally {
      await gw.close()
      await backend.close()
    }
  })
})

describe('published scopes (-11 §11.10): a route scope missing from resource.scopes', () => {
  const dir = mkdtempSync(join(tmpdir(), 'aauth-scopes-'))
  after(() => rmSync(dir, { recursive: true, force: true }))

  test('fails `aauth-gateway check` with the file and the line of the scope', async () => {
    writeFileSync(join(dir, RESOURCE_KEY_FILE), resourceKeyFile())
    const file = join(dir, 'gateway.yaml')
    writeFileSync(
      file,
      stringify({
        resource: { issuer: RESOURCE, signing_key: RESOURCE_KEY_FILE, scopes: { 'data.read': 'Read data' } },
        routes: [{ name: 'data', upstream: 'http://127.0.0.1:1', access: 'auth-token', scopes: ['data.read', 'data.erase'] }],
      }),
    )
    const child = spawn(process.execPath, [resolve('bin/aauth-gateway.js'), 'check', '--config', file], { stdio: ['ignore', 'pipe', 'pipe'] })
    let stderr = ''
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()))
    const code = await new Promise((done) => child.once('close', done))
    assert.equal(code, 1)
    const lines = readFileSync(file, 'utf8').split('\n')
    const line = lines.findIndex((l) => l.includes('data.erase')) + 1
    assert.ok(stderr.includes(`${file}:${line}: routes.0.scopes.1: scope "data.erase" is not published`), stderr)
  })

  test('deferred on a route that mints no resource tokens, and session-token without a signing key, are config errors', async () => {
    const file = join(dir, 'other.yaml')
    writeFileSync(
      file,
      stringify({
        resource: { issuer: RESOURCE },
        routes: [
          { name: 'a', match: { path_prefix: '/a' }, upstream: 'http://127.0.0.1:1', access: 'person-token', deferred: true },
          { name: 's', match: { path_prefix: '/s' }, upstream: 'http://127.0.0.1:1', access: 'session-token' },
        ],
      }),
    )
    await assert.rejects(buildSnapshot(file, {}), (err: unknown) => {
      assert.ok(err instanceof ConfigError)
      const keys = err.problems.map((p) => p.key)
      assert.ok(keys.includes('routes.0.deferred'), err.message)
      assert.ok(keys.includes('routes.1.access'), err.message)
      assert.ok(err.problems.every((p) => p.line > 0), err.message)
      return true
    })
  })
})

describe('deferred delivery of requirement=auth-token (-11 §6.5.1)', () => {
  let ps: AgentServer
  let backend: Backend
  let gw: TestGateway
  const key = newKey('Ed25519')

  let world: TestWorld

  before(async () => {
    world = await startTestWorld(
      ({ issuers: [issuer], backend }) => ({
        resource: { issuer: RESOURCE, authority: AUTHORITY, signing_key: RESOURCE_KEY_FILE, scopes: SCOPES },
        trust: { person_servers: [issuer!.origin], insecure_issuers: [issuer!.origin] },
        routes: [{ name: 'held', match: { path_prefix: '/held' }, upstream: backend.url, access: 'auth-token', scopes: ['data.read'], deferred: true }],
      }),
      { files: { [RESOURCE_KEY_FILE]: resourceKeyFile() } },
    )
    ;({ backend, gw } = world)
    ps = world.issuers[0]!
  })
  after(() => world.close())

  /** A signed GET of `target` with `key` presenting `token`. */
  const poll = (target: string, signer: DevKey, token: string, created?: number): Promise<Answer> =>
    send(gw, target, { headers: signRequest({ method: 'GET', authority: AUTHORITY, target }, signer, { signatureKey: jwt(token), created }) })

  test('an agent that asks to wait gets 202 with Location, Retry-After, no-store and the resource token; the first poll with an auth token runs the request once', async () => {
    const person = await mintPersonToken(ps, RESOURCE, key)
    const before = backend.received.length
    const held = await call(gw, '/held', key, jwt(person), { prefer: 'respond-async, wait=10' }, '?q=1')
    assert.equal(held.status, 202, held.text)
    assert.deepEqual(held.json(), { status: 'pending' })
    assert.equal(held.headers.get('cache-control'), 'no-store')
    assert.equal(held.headers.get('retry-after'), '5')
    const location = held.headers.get('location') ?? ''
    assert.match(location, /^\/aauth\/pending\/[A-Za-z0-9_-]{22}$/)
    const { payload } = await verifyResourceToken(gw, resourceTokenOf(held))
    assert.equal(payload.scope, 'data.read')
    assert.equal(backend.received.length, before, 'nothing reached the backend yet')

    const unsigned = await send(gw, location)
    assert.equal(unsigned.status, 401)
    assert.equal(parseRequirement(unsigned.headers.get('aauth-requirement')).requirement, 'agent-token')
    const stranger = newKey('Ed25519')
    assert.equal((await poll(location, stranger, await mintPersonToken(ps, RESOURCE, stranger))).status, 404, 'another key learns nothing')
    const waiting = await poll(location, key, person)
    assert.equal(waiting.status, 202)
    assert.equal(resourceTokenOf(waiting), resourceTokenOf(held), 'the same requirement until an auth token comes')

    const auth = await mintAuthToken(ps, RESOURCE, key)
    const done = await poll(location, key, auth)
    assert.equal(done.status, 200, done.text)
    assert.equal(backend.received.length, before + 1)
    const got = backend.last()
    assert.equal(got.method, 'GET')
    assert.match(got.url, /^\/held\/\d+\?q=1$/, 'the held request, not the poll, reaches the backend')
    assert.equal(got.headers['x-aauth-level'], 'authorized')

    // Signed anew (an earlier `created`): the same signed poll twice would be a replay.
    const again = await poll(location, key, auth, Math.floor(Date.now() / 1000) - 2)
    assert.equal(again.status, 200)
    assert.equal(again.text, done.text, 'a repeated poll with the same auth token gets the kept answer')
    assert.equal(backend.received.length, before + 1, 'and is not executed again')
    const other = await poll(location, key, await mintAuthToken(ps, RESOURCE, key))
    assert.equal(other.status, 410)
  })

  test('without Prefer, or with a body, the challenge is the 401 form', async () => {
    const person = await mintPersonToken(ps, RESOURCE, key)
    const plain = await call(gw, '/held', key, jwt(person))
    assert.equal(plain.status, 401)
    assert.equal(plain.headers.get('location'), null)
    const target = `/held/${++sequence}`
    const body = '{"a":1}'
    const headers = { prefer: 'respond-async', 'content-type': 'application/json' }
    const withBody = await send(gw, target, {
      method: 'POST',
      body,
      headers: { ...headers, ...signRequest({ method: 'POST', authority: AUTHORITY, target, headers, body }, key, { signatureKey: jwt(person) }) },
    })
    assert.equal(withBody.status, 401, withBody.text)
  })

  test('a pending URL that was never issued is 404', async () => {
    const res = await poll('/aauth/pending/AAAAAAAAAAAAAAAAAAAAAA', key, await mintPersonToken(ps, RESOURCE, key))
    assert.equal(res.status, 404)
  })
})

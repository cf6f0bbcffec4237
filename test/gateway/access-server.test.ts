import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import { calculateJwkThumbprint, decodeJwt, type JWK } from 'jose'
import { signRequest } from '../../src/devkit/sign.js'
import type { AgentServer } from '../../src/devkit/agent-server.js'
import {
  RESOURCE_KEY_FILE,
  callWithToken,
  mintAuthToken,
  mintPersonToken,
  resourceKeyFile,
  resourceTokenOf,
  verifyResourceToken,
} from '../helpers/authorization.js'
import type { Backend } from '../../src/devkit/backend.js'
import { AUTHORITY, send, startTestWorld, type TestGateway, type TestWorld } from '../helpers/gateway.js'
import { newKey } from '../../src/devkit/keys.js'

const RESOURCE = 'https://api.test'

describe('four-party authorization: resource.access_server', () => {
  // The test issuer plays both the person server (person tokens) and, as a second instance, the
  // resource's own access server (auth tokens with `dwk: aauth-access.json`).
  let ps: AgentServer
  let as: AgentServer
  let backend: Backend
  let gw: TestGateway
  const key = newKey('Ed25519')

  let world: TestWorld

  before(async () => {
    world = await startTestWorld(
      ({ issuers: [ps, as], backend }) => ({
        resource: { issuer: RESOURCE, authority: AUTHORITY, signing_key: RESOURCE_KEY_FILE, access_server: as?.origin, scopes: { 'data.read': 'Read data', 'data.write': 'Write data' } },
        trust: { person_servers: [ps?.origin], access_servers: [as?.origin], insecure_issuers: [ps?.origin, as?.origin] },
        routes: [
          { name: 'data', match: { path_prefix: '/data' }, upstream: backend.url, access: 'authorized', scopes: ['data.read'] },
          { name: 'write', match: { path_prefix: '/write' }, upstream: backend.url, access: 'authorized', scopes: ['data.write'] },
        ],
      }),
      { issuers: 2, files: { [RESOURCE_KEY_FILE]: resourceKeyFile() } },
    )
    ;({ backend, gw } = world)
    ;[ps, as] = world.issuers as [AgentServer, AgentServer]
  })
  after(() => world.close())

  /** An auth token as the access server issues it: `dwk: aauth-access.json`, `ps` naming the person server. */
  const accessToken = (claims: Record<string, unknown> = {}): Promise<string> =>
    mintAuthToken(as, RESOURCE, key, { dwk: 'aauth-access.json', ps: ps.origin, ...claims })

  test('addresses the resource token to the access server, naming the person server in ps', async () => {
    const personToken = await mintPersonToken(ps, RESOURCE, key, { sub: 'person-4' })
    const res = await callWithToken(gw, '/data', key, personToken)
    assert.equal(res.status, 401, res.text)
    const { payload } = await verifyResourceToken(gw, resourceTokenOf(res))
    assert.equal(payload.aud, as.origin)
    assert.equal(payload.ps, ps.origin)
    assert.equal(payload.sub, 'person-4')
    assert.equal(payload.presented_jti, decodeJwt(personToken).jti)
    assert.equal(payload.agent_jkt, await calculateJwkThumbprint(key.publicJwk as JWK, 'sha256'))
    assert.equal(payload.scope, 'data.read')
  })

  test('accepts an auth token issued by the access server', async () => {
    const res = await callWithToken(gw, '/data', key, await accessToken({ sub: 'person-4' }))
    assert.equal(res.status, 200, res.text)
    const got = backend.last().headers
    assert.equal(got['x-aauth-level'], 'authorized')
    assert.equal(got['x-aauth-user'], 'person-4')
    assert.equal(got['x-aauth-scope'], 'data.read')
    assert.equal(got['x-aauth-token-type'], 'aa-auth+jwt')
    assert.equal(as.hitsOn('/.well-known/aauth-access.json'), 1, 'keys found through the access server metadata')
  })

  test('a step-up goes back to the access server, with ps and presented_jti from the auth token', async () => {
    const readToken = await accessToken({ sub: 'person-4' })
    const res = await callWithToken(gw, '/write', key, readToken)
    assert.equal(res.status, 401, res.text)
    const { payload } = await verifyResourceToken(gw, resourceTokenOf(res))
    assert.equal(payload.aud, as.origin)
    assert.equal(payload.ps, ps.origin)
    assert.equal(payload.presented_jti, decodeJwt(readToken).jti)
    assert.deepEqual(String(payload.scope).split(' ').sort(), ['data.read', 'data.write'])
  })

  test('the access server revokes an auth token it issued (signing under aauth-access.json)', async () => {
    const token = await accessToken()
    assert.equal((await callWithToken(gw, '/data', key, token)).status, 200)
    const { jti, exp } = decodeJwt(token)
    const body = JSON.stringify({ jti, exp })
    const asKey = as.keys[0]
    assert.ok(asKey)
    const init = { method: 'POST', headers: { 'content-type': 'application/json' }, body }
    const headers = signRequest({ ...init, authority: AUTHORITY, target: '/aauth/revocation' }, asKey, {
      signatureKey: `jwks_uri;id="${as.origin}";dwk="aauth-access.json";kid="${asKey.kid}"`,
      components: ['@method', '@authority', '@path', 'signature-key', 'content-digest', 'content-type'],
    })
    const res = await send(gw, '/aauth/revocation', { ...init, headers: { ...init.headers, ...headers } })
    assert.equal(res.status, 200, res.text)
    const after = await callWithToken(gw, '/data', key, token)
    assert.equal(after.headers.get('signature-error'), 'error=revoked_jwt')
    assert.equal(after.headers.get('aauth-requirement'), 'requirement=person-token')
  })

  test('refuses an access-server auth token from an issuer not in trust.access_servers', async () => {
    const token = await mintAuthToken(ps, RESOURCE, key, { dwk: 'aauth-access.json' })
    const res = await callWithToken(gw, '/data', key, token)
    assert.equal(res.status, 401)
    assert.equal(res.headers.get('signature-error'), 'error=invalid_jwt')
  })

  test('refuses an auth token from the access server that claims to be a person server (dwk aauth-person.json)', async () => {
    const token = await mintAuthToken(as, RESOURCE, key, { dwk: 'aauth-person.json' })
    const res = await callWithToken(gw, '/data', key, token)
    assert.equal(res.status, 401)
    assert.equal(res.headers.get('signature-error'), 'error=invalid_jwt')
  })

  test('sends a person-server auth token back to the access server with a resource token', async () => {
    const fromPs = await mintAuthToken(ps, RESOURCE, key, { sub: 'person-4', scope: 'data.read' })
    const forwarded = backend.received.length
    const res = await callWithToken(gw, '/data', key, fromPs)
    assert.equal(res.status, 401, res.text)
    const { payload } = await verifyResourceToken(gw, resourceTokenOf(res))
    assert.equal(payload.aud, as.origin)
    assert.equal(backend.received.length, forwarded, 'not forwarded')
  })
})

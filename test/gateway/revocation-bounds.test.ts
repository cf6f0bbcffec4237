import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import { decodeJwt } from 'jose'
import { signRequest } from '../../src/devkit/sign.js'
import type { AgentServer } from '../../src/devkit/agent-server.js'
import { RESOURCE_KEY_FILE, assertProblem, callWithToken, mintAuthToken, resourceKeyFile } from '../helpers/authorization.js'
import { AUTHORITY, send, startTestWorld, type Answer, type TestGateway, type TestWorld } from '../helpers/gateway.js'
import { newKey } from '../../src/devkit/keys.js'

const RESOURCE = 'https://api.test'
const REVOCATION = '/aauth/revocation'
const BODY_COMPONENTS = ['@method', '@authority', '@path', 'signature-key', 'content-digest', 'content-type']
const WINDOW = 60
/** The longest lifetime of a revocable token (person and auth tokens, AAuth -11: 1 h). */
const LONGEST = 3600

/** A revocation signed as a person server signs it (see test/gateway/revocation.test.ts). */
async function revoke(gw: TestGateway, server: AgentServer, body: string): Promise<Answer> {
  const k = server.keys.at(-1) ?? server.addKey()
  const init = { method: 'POST', headers: { 'content-type': 'application/json' }, body }
  const headers = signRequest({ ...init, authority: AUTHORITY, target: REVOCATION }, k, {
    signatureKey: `jwks_uri;id="${server.origin}";dwk="aauth-person.json";kid="${k.kid}"`,
    components: BODY_COMPONENTS,
  })
  return send(gw, REVOCATION, { ...init, headers: { ...init.headers, ...headers } })
}

const bodyFor = (token: string): string => {
  const { jti, exp } = decodeJwt(token)
  return JSON.stringify({ jti, exp })
}

const now = (): number => Math.floor(Date.now() / 1000)

function assertRetryAfter(res: Answer, atMost: number): void {
  const value = Number(res.headers.get('retry-after'))
  assert.ok(Number.isInteger(value) && value >= 1 && value <= atMost, `Retry-After ${res.headers.get('retry-after')}`)
}

/** `issuers` person servers, a backend and a gateway with these revocation bounds. */
function startWorld(issuers: number, revocation: Record<string, number>): Promise<TestWorld> {
  return startTestWorld(
    ({ issuers: servers, backend }) => ({
      resource: { issuer: RESOURCE, authority: AUTHORITY, signing_key: RESOURCE_KEY_FILE, scopes: { 'data.read': 'Read data' } },
      trust: { person_servers: servers.map((s) => s.origin), insecure_issuers: servers.map((s) => s.origin) },
      signatures: { window: WINDOW, revocation },
      routes: [{ name: 'data', match: { path_prefix: '/data' }, upstream: backend.url, access: 'authorized', scopes: ['data.read'] }],
    }),
    { issuers, files: { [RESOURCE_KEY_FILE]: resourceKeyFile() } },
  )
}

describe('revocation bounds (signatures.revocation)', () => {
  let ps: AgentServer
  let otherPs: AgentServer
  let thirdPs: AgentServer
  let world: TestWorld
  let gw: TestGateway
  const key = newKey('Ed25519')
  const revokedTokens: string[] = []

  before(async () => {
    world = await startWorld(3, { max_entries: 4, max_per_issuer: 2 })
    gw = world.gw
    ;[ps, otherPs, thirdPs] = world.issuers as [AgentServer, AgentServer, AgentServer]
  })
  after(() => world.close())

  const assertStillRevoked = async (): Promise<void> => {
    for (const token of revokedTokens) {
      assert.equal((await callWithToken(gw, '/data', key, token)).headers.get('signature-error'), 'error=revoked_jwt')
    }
  }

  test('an issuer over max_per_issuer gets 429 rate_limited with Retry-After; its revocations stay', async () => {
    for (let i = 0; i < 2; i++) {
      const token = await mintAuthToken(ps, RESOURCE, key)
      assert.equal((await revoke(gw, ps, bodyFor(token))).status, 200)
      revokedTokens.push(token)
    }
    const spare = await mintAuthToken(ps, RESOURCE, key)
    const res = await revoke(gw, ps, bodyFor(spare))
    assert.equal(res.status, 429, res.text)
    assertProblem(res, 'rate_limited')
    assertRetryAfter(res, 600 + WINDOW)
    assert.equal(gw.decisions.at(-1)?.reason, 'rate_limited')
    assert.equal((await callWithToken(gw, '/data', key, spare)).status, 200, 'the refused revocation was not recorded')
    await assertStillRevoked()
  })

  test('revoking an already revoked token again is still 200 at the bound', async () => {
    const first = revokedTokens[0]
    assert.ok(first !== undefined)
    // Laid out differently, so it is a new signed message rather than a replay of the first one.
    const again = JSON.stringify(JSON.parse(bodyFor(first)), null, 1)
    assert.equal((await revoke(gw, ps, again)).status, 200)
  })

  test('another issuer is not held back by the first one\'s bound', async () => {
    for (let i = 0; i < 2; i++) {
      const token = await mintAuthToken(otherPs, RESOURCE, key)
      assert.equal((await revoke(gw, otherPs, bodyFor(token))).status, 200)
      revokedTokens.push(token)
    }
  })

  test('a store at max_entries refuses with 503 and Retry-After, and drops no revocation', async () => {
    const token = await mintAuthToken(thirdPs, RESOURCE, key)
    const res = await revoke(gw, thirdPs, bodyFor(token))
    assert.equal(res.status, 503, res.text)
    assertProblem(res, 'temporarily_unavailable')
    assertRetryAfter(res, 600 + WINDOW)
    assert.equal((await callWithToken(gw, '/data', key, token)).status, 200)
    assert.equal(revokedTokens.length, 4)
    await assertStillRevoked()
  })
})

describe('revocations with an exp beyond any accepted token lifetime', () => {
  let ps: AgentServer
  let world: TestWorld
  let gw: TestGateway

  before(async () => {
    world = await startWorld(1, { max_entries: 100, max_per_issuer: 100 })
    gw = world.gw
    ps = world.issuers[0] as AgentServer
  })
  after(() => world.close())

  test('are refused with 400 invalid_request saying why', async () => {
    for (const exp of [now() + LONGEST + WINDOW + 5, now() + 86_400, Number.MAX_SAFE_INTEGER]) {
      const res = await revoke(gw, ps, JSON.stringify({ jti: `far-${exp}`, exp }))
      assert.equal(res.status, 400, `${exp}: ${res.text}`)
      assertProblem(res, 'invalid_request')
      assert.match(String(res.json().detail), /exp is more than 3660 s ahead/)
    }
  })

  test('while one an hour ahead, the longest a person or auth token lives, is recorded', async () => {
    const res = await revoke(gw, ps, JSON.stringify({ jti: 'an-hour', exp: now() + LONGEST }))
    assert.equal(res.status, 200, res.text)
  })
})

import assert from 'node:assert/strict'
import { setTimeout as sleep } from 'node:timers/promises'
import { afterEach, beforeEach, test } from 'node:test'
import { SignatureError, type SignatureErrorCode } from '../../src/errors.js'
import { Discovery } from '../../src/keys/discovery.js'
import type { CacheResult, FetchResult, KeyDocumentCacheOptions } from '../../src/keys/key-document-cache.js'
import type { FetchPolicy, ServerKeyQuery } from '../../src/keys/types.js'
import { type AgentServer, startAgentServer } from '../../src/devkit/agent-server.js'

let agent: AgentServer
beforeEach(async () => { agent = await startAgentServer() })
afterEach(() => agent.close())

const policy = (overrides: Partial<FetchPolicy> = {}): FetchPolicy =>
  ({ timeoutMs: 1000, maxBytes: 4096, insecureOrigins: new Set([agent.origin]), ...overrides })

function query(kid: string, overrides: Partial<ServerKeyQuery> = {}): ServerKeyQuery {
  return { issuer: agent.origin, document: 'aauth-agent.json', issuerMembers: ['issuer'], kid, trusted: (o) => o === agent.origin, ...overrides }
}

function discovery(options: KeyDocumentCacheOptions = {}): { d: Discovery; fetches: FetchResult[]; lookups: CacheResult[] } {
  const fetches: FetchResult[] = []
  const lookups: CacheResult[] = []
  const d = new Discovery({ observer: { onFetch: (r) => fetches.push(r), onCache: (r) => lookups.push(r) }, ...options })
  return { d, fetches, lookups }
}

async function refuses(p: Promise<unknown>, code: SignatureErrorCode, detail?: RegExp): Promise<void> {
  await assert.rejects(p, (e: unknown) => e instanceof SignatureError && e.code === code && (detail === undefined || detail.test(e.message)))
}

test('finds the key by kid through metadata and JWKS, then serves both from cache', async () => {
  const { d, fetches, lookups } = discovery()
  const kid = agent.keys[0]!.kid
  const first = await d.serverKey(query(kid), policy())
  assert.equal(first.jwk.kid, kid)
  assert.equal(first.fresh, true)
  const second = await d.serverKey(query(kid), policy())
  assert.equal(second.fresh, false)
  assert.equal(agent.hitsOn('/.well-known/aauth-agent.json'), 1)
  assert.equal(agent.hitsOn('/jwks.json'), 1)
  assert.deepEqual(fetches, ['ok', 'ok'])
  assert.deepEqual(lookups, ['miss', 'hit'], 'only JWKS lookups count as key-cache results')
})

test('picks up a rotated key (new kid) after the refresh cooldown', async () => {
  const { d } = discovery({ refreshCooldownSeconds: 0.3 })
  await d.serverKey(query(agent.keys[0]!.kid), policy())
  const rotated = agent.addKey('ES256')
  agent.keys.shift()
  await sleep(350)
  const found = await d.serverKey(query(rotated.kid), policy())
  assert.equal(found.jwk.kid, rotated.kid)
  assert.equal(found.jwk.alg, 'ES256')
  assert.equal(agent.hitsOn('/jwks.json'), 2)
})

test('unknown kids do not cause a fetch storm: one refresh per cooldown', async () => {
  const { d } = discovery()
  await d.serverKey(query(agent.keys[0]!.kid), policy())
  const attempts = Array.from({ length: 50 }, (_, i) => d.serverKey(query(`forged-${i}`), policy()))
  for (const attempt of attempts) await refuses(attempt, 'unknown_key')
  assert.equal(agent.hitsOn('/jwks.json'), 1, 'inside the cooldown no refetch at all')
  assert.equal(agent.hitsOn('/.well-known/aauth-agent.json'), 1)
})

test('an issuer that is down: invalid_key, and it is not asked again on every request', async () => {
  const { d } = discovery()
  agent.jwks = { kind: 'status', status: 503 }
  await refuses(d.serverKey(query(agent.keys[0]!.kid), policy()), 'invalid_key', /status/)
  await refuses(d.serverKey(query(agent.keys[0]!.kid), policy()), 'invalid_key')
  assert.equal(agent.hitsOn('/jwks.json'), 1)
  await agent.close()
  const other = discovery().d
  await refuses(other.serverKey(query('k'), policy()), 'invalid_key', /network/)
})

test('last good keys keep serving while the JWKS server fails, and the metric says stale', async () => {
  const { d, fetches, lookups } = discovery({ minMaxAgeSeconds: 0 })
  agent.cacheControl = 'max-age=0'
  const kid = agent.keys[0]!.kid
  await d.serverKey(query(kid), policy())
  agent.jwks = { kind: 'status', status: 500 }
  const stale = await d.serverKey(query(kid), policy())
  assert.equal(stale.jwk.kid, kid)
  assert.equal(lookups.at(-1), 'stale')
  assert.equal(fetches.at(-1), 'error')
})

test('a slow JWKS server times out (limits.fetch_timeout)', async () => {
  const { d } = discovery()
  agent.jwks = { kind: 'slow', ms: 2000 }
  const started = Date.now()
  await refuses(d.serverKey(query(agent.keys[0]!.kid), policy({ timeoutMs: 300 })), 'invalid_key', /timeout/)
  assert.ok(Date.now() - started < 1500)
})

test('a huge JWKS is cut off at limits.fetch_max_bytes', async () => {
  const { d } = discovery()
  agent.jwks = { kind: 'huge', bytes: 100_000 }
  await refuses(d.serverKey(query(agent.keys[0]!.kid), policy()), 'invalid_key', /too_large/)
})

test('a JWKS redirecting to another host is refused', async () => {
  const { d } = discovery()
  agent.jwks = { kind: 'redirect', to: agent.origin.replace('127.0.0.1', 'localhost') + '/jwks.json' }
  await refuses(d.serverKey(query(agent.keys[0]!.kid), policy()), 'invalid_key', /redirect/)
  assert.equal(agent.hitsOn('/jwks.json'), 1)
})

test('a cross-origin jwks_uri is fetched only when that origin is trusted too', async () => {
  const { d } = discovery()
  const elsewhere = await startAgentServer()
  try {
    agent.metadata = { jwks_uri: `${elsewhere.origin}/jwks.json` }
    const p = policy({ insecureOrigins: new Set([agent.origin, elsewhere.origin]) })
    await refuses(d.serverKey(query(elsewhere.keys[0]!.kid), p), 'invalid_key', /untrusted/)
    assert.equal(elsewhere.hitsOn('/jwks.json'), 0)
    const admitted = query(elsewhere.keys[0]!.kid, { trusted: (o) => o === agent.origin || o === elsewhere.origin })
    assert.equal((await d.serverKey(admitted, p)).jwk.kid, elsewhere.keys[0]!.kid)
  } finally {
    await elsewhere.close()
  }
})

test('an untrusted issuer is never fetched, even if a caller forgot to check', async () => {
  const { d } = discovery()
  await refuses(d.serverKey(query('k', { trusted: () => false }), policy()), 'invalid_key', /untrusted/)
  assert.equal(agent.hits.size, 0)
})

test('the legacy agent document names the issuer in its agent member', async () => {
  const { d } = discovery()
  const found = await d.serverKey(query(agent.keys[0]!.kid, { document: 'aauth-agent', issuerMembers: ['agent', 'issuer'] }), policy())
  assert.equal(found.jwk.kid, agent.keys[0]!.kid)
  agent.metadata = { agent: 'https://someone-else.test' }
  await refuses(discovery().d.serverKey(query('k', { document: 'aauth-agent', issuerMembers: ['agent', 'issuer'] }), policy()), 'issuer_mismatch')
})

test('a JWKS without a keys array is invalid_key; an unusable sibling key does not matter', async () => {
  agent.metadata = { jwks_uri: `${agent.origin}/.well-known/not-a-jwks` }
  await refuses(discovery().d.serverKey(query('k'), policy()), 'invalid_key', /keys array/)
})

import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import { base64url, SignJWT } from 'jose'
import { SignatureError, type SignatureErrorCode } from '../../src/errors.js'
import { jwkThumbprint } from '../../src/keys/jwk.js'
import type { ResolveContext } from '../../src/keys/types.js'
import { verifyToken } from '../../src/tokens/index.js'
import { type AgentServer, startAgentServer } from '../../src/devkit/agent-server.js'
import { resolveContext, resourceConfig } from '../helpers/resolve-context.js'
import { newKey } from '../../src/devkit/keys.js'

let agent: AgentServer
before(async () => { agent = await startAgentServer() })
after(() => agent.close())

const delegate = newKey('Ed25519')
const cnf = (): Record<string, unknown> => ({ ...delegate.publicJwk })
const now = (): number => Math.floor(Date.now() / 1000)

type Sections = { trust?: Record<string, unknown>; signatures?: Record<string, unknown>; limits?: Record<string, unknown> }

function context(overrides: Sections = {}): ResolveContext {
  return resolveContext(resourceConfig({
    trust: { agent_providers: [agent.origin], insecure_issuers: [agent.origin], ...overrides.trust },
    signatures: overrides.signatures,
    limits: overrides.limits,
  }))
}

async function refuses(token: string, code: SignatureErrorCode, ctx = context()): Promise<void> {
  await assert.rejects(verifyToken(token, ctx), (e: unknown) => {
    assert.ok(e instanceof SignatureError, String(e))
    assert.equal(e.code, code, e.message)
    assert.ok(!e.message.includes(token), 'the message never repeats the token')
    return true
  })
}

/** Runs `fn` and returns how many requests the agent server got meanwhile. */
async function hitsDuring(fn: () => Promise<void>): Promise<number> {
  const before = [...agent.hits.values()].reduce((a, b) => a + b, 0)
  await fn()
  return [...agent.hits.values()].reduce((a, b) => a + b, 0) - before
}

function compact(header: object, payload: object, signature = ''): string {
  const enc = (o: object): string => base64url.encode(JSON.stringify(o))
  return `${enc(header)}.${enc(payload)}.${signature}`
}

test('an aa-agent+jwt resolves to its cnf.jwk and identifies agent and delegate', async () => {
  const token = await agent.agentToken(cnf(), { sub: 'aauth:assistant@agent.test', ps: 'https://ps.test' })
  const { key, identity } = await verifyToken(token, context())
  assert.equal(key.thumbprint, await jwkThumbprint(delegate.publicJwk))
  assert.equal(key.alg, 'Ed25519')
  assert.deepEqual(
    { level: identity.level, scheme: identity.scheme, tokenType: identity.tokenType, agent: identity.agent, agentDelegate: identity.agentDelegate, issuer: identity.issuer, user: identity.user },
    { level: 'identified', scheme: 'jwt', tokenType: 'aa-agent+jwt', agent: agent.origin, agentDelegate: 'aauth:assistant@agent.test', issuer: agent.origin, user: '' },
  )
  assert.equal(identity.claims.ps, 'https://ps.test')
})

test('ES256 issuer keys and ES256 confirmation keys work too', async () => {
  const es = agent.addKey('ES256')
  const holder = newKey('ES256')
  const token = await agent.agentToken({ ...holder.publicJwk }, {}, { key: es })
  const { key } = await verifyToken(token, context())
  assert.equal(key.alg, 'ES256')
  assert.equal(key.thumbprint, await jwkThumbprint(holder.publicJwk))
  agent.keys.pop()
})

test('a verified token is cached: the next use neither fetches nor verifies again', async () => {
  const ctx = context()
  const token = await agent.agentToken(cnf())
  const first = await verifyToken(token, ctx)
  assert.equal(await hitsDuring(async () => {
    const second = await verifyToken(token, ctx)
    assert.equal(second, first)
  }), 0)
  const reloaded = { ...ctx, config: resourceConfig({ trust: { agent_providers: [], insecure_issuers: [agent.origin] } }) }
  await refuses(token, 'invalid_jwt', reloaded)
})

test('a cached token is rechecked against exp on every use', async () => {
  // The clock is injected: the token is cached one second before `exp`, then the same context
  // is asked again at `exp` exactly (zero tolerance), with no sleeping and no race with minting.
  const clock = { now: now() }
  const ctx = resolveContext(context().config, { now: () => clock.now })
  const exp = clock.now + 600
  const token = await agent.agentToken(cnf(), { iat: clock.now - 10, exp })
  clock.now = exp - 1
  assert.equal((await verifyToken(token, ctx)).identity.agent, agent.origin)
  assert.equal(await hitsDuring(() => verifyToken(token, ctx).then(() => undefined)), 0, 'served from the verified-token cache')
  clock.now = exp
  await refuses(token, 'expired_jwt', ctx)
})

test('an untrusted issuer is refused with invalid_jwt and never fetched', async () => {
  const token = await agent.agentToken(cnf())
  const ctx = context({ trust: { agent_providers: ['https://agent.supply-chain.test'] } })
  assert.equal(await hitsDuring(() => refuses(token, 'invalid_jwt', ctx)), 0)
  const star = context({ trust: { agent_providers: ['*'] } })
  assert.equal((await verifyToken(token, star)).identity.agent, agent.origin, '"*" admits a listed insecure origin')
})

test('a token signed by a key that is not in the JWKS is refused', async () => {
  const outsider = { ...newKey('Ed25519'), kid: 'not-published' }
  await refuses(await agent.agentToken(cnf(), {}, { key: outsider }), 'unknown_key')
  const impostor = { ...newKey('Ed25519'), kid: agent.keys[0]!.kid }
  await refuses(await agent.agentToken(cnf(), {}, { key: impostor }), 'invalid_jwt')
})

test('RFC 8725 alg traps are refused before any fetch: none, HS256 with the public key, EdDSA', async () => {
  const claims = { iss: agent.origin, dwk: 'aauth-agent.json', sub: 's', iat: now(), exp: now() + 60, cnf: { jwk: cnf() } }
  const header = { kid: agent.keys[0]!.kid, typ: 'aa-agent+jwt' }
  const none = compact({ ...header, alg: 'none' }, claims)
  const secret = new TextEncoder().encode(JSON.stringify(agent.keys[0]!.publicJwk))
  const hs256 = await new SignJWT(claims).setProtectedHeader({ ...header, alg: 'HS256' }).sign(secret)
  const hsX = await new SignJWT(claims).setProtectedHeader({ ...header, alg: 'HS256' }).sign(base64url.decode(agent.keys[0]!.publicJwk.x!))
  const eddsa = await agent.mint(claims, { alg: 'EdDSA', key: agent.keys[0] })
  const noAlg = compact(header, claims, 'c2ln')
  const ctx = context()
  assert.equal(await hitsDuring(async () => {
    for (const token of [none, hs256, hsX, eddsa, noAlg]) await refuses(token, 'invalid_jwt', ctx)
  }), 0)
})

test('alg/kty mismatch: a header alg other than the issuer key alg is refused', async () => {
  const claims = { iss: agent.origin, dwk: 'aauth-agent.json', sub: 's', iat: now(), exp: now() + 60, cnf: { jwk: cnf() } }
  const es = newKey('ES256')
  const forged = await new SignJWT(claims).setProtectedHeader({ alg: 'ES256', kid: agent.keys[0]!.kid, typ: 'aa-agent+jwt' }).sign(es.privateKey)
  await refuses(forged, 'invalid_jwt')
})

test('an issuer whose JWKS cannot be fetched makes the token invalid_jwt (slow, huge, redirecting)', async () => {
  const behaviours = [
    { kind: 'status', status: 503 },
    { kind: 'huge', bytes: 300_000 },
    { kind: 'redirect', to: `${agent.origin.replace('127.0.0.1', 'localhost')}/jwks.json` },
    { kind: 'slow', ms: 1500 },
  ] as const
  try {
    for (const behaviour of behaviours) {
      agent.jwks = behaviour
      await refuses(await agent.agentToken(cnf()), 'invalid_jwt', context({ limits: { fetch_timeout: 1 } }))
    }
  } finally {
    agent.jwks = { kind: 'ok' }
  }
})

test('when a cached key fails to verify, the JWKS is refreshed once and the token retried', async () => {
  // The key cache's clock is injected, so the refresh cooldown passes without sleeping.
  const clock = { ms: Date.now() }
  const ctx = resolveContext(context().config, { serviceOptions: { now: () => clock.ms } })
  const original = agent.keys[0]!
  await verifyToken(await agent.agentToken(cnf()), ctx)
  const reissued = { ...newKey('Ed25519'), kid: original.kid }
  agent.keys[0] = reissued
  try {
    const token = await agent.agentToken(cnf(), {}, { key: reissued })
    await refuses(token, 'invalid_jwt', ctx) // inside the cooldown: no refetch, the old key fails
    clock.ms += 60_000
    assert.equal((await verifyToken(token, ctx)).identity.agent, agent.origin)
  } finally {
    agent.keys[0] = original
  }
})

test('an issuer key without alg is refused in the current format', async () => {
  const ctx = context()
  agent.jwks = { kind: 'no-alg' }
  try {
    await refuses(await agent.agentToken(cnf()), 'invalid_jwt', ctx)
  } finally {
    agent.jwks = { kind: 'ok' }
  }
})

test('exp is required and has zero tolerance; iat is required and may not lead by more than the window', async () => {
  await refuses(await agent.agentToken(cnf(), { exp: now() }), 'expired_jwt')
  await refuses(await agent.agentToken(cnf(), { exp: now() - 1 }), 'expired_jwt')
  await refuses(await agent.agentToken(cnf(), { exp: undefined }), 'invalid_jwt')
  await refuses(await agent.agentToken(cnf(), { iat: now() + 120 }), 'clock_skew')
  await refuses(await agent.agentToken(cnf(), { iat: undefined }), 'invalid_jwt')
  await refuses(await agent.agentToken(cnf(), { iat: 'yesterday' as unknown as number }), 'invalid_jwt')
  await refuses(await agent.agentToken(cnf(), { nbf: now() + 600 }), 'invalid_jwt')
  await verifyToken(await agent.agentToken(cnf(), { iat: now() + 30 }), context())
})

test('typ is checked first: a wrong or missing typ is refused without fetching', async () => {
  const ctx = context()
  assert.equal(await hitsDuring(async () => {
    for (const typ of ['JWT', 'aa-resource+jwt', 'aa-agent+jwt+x', 'at+jwt', '']) {
      await refuses(await agent.agentToken(cnf(), {}, { typ }), 'invalid_jwt', ctx)
    }
  }), 0)
  await verifyToken(await agent.agentToken(cnf(), {}, { typ: 'application/AA-Agent+JWT' }), ctx)
})

test('dwk must be the one the typ expects', async () => {
  const ctx = context()
  assert.equal(await hitsDuring(async () => {
    await refuses(await agent.agentToken(cnf(), { dwk: 'aauth-person.json' }), 'invalid_jwt', ctx)
    await refuses(await agent.agentToken(cnf(), { dwk: undefined }), 'invalid_jwt', ctx)
    await refuses(await agent.agentToken(cnf(), { dwk: '../jwks.json' }), 'invalid_jwt', ctx)
  }), 0)
})

test('iss must be a server identifier', async () => {
  for (const iss of [`${agent.origin}/`, agent.origin.toUpperCase(), 'https://agent.test:8443', 'agent.test', undefined]) {
    await refuses(await agent.agentToken(cnf(), { iss }), 'invalid_jwt', context({ trust: { agent_providers: ['*'] } }))
  }
})

test('an issuer mismatch in the metadata is issuer_mismatch', async () => {
  agent.metadata = { issuer: 'https://agent.supply-chain.test' }
  try {
    await refuses(await agent.agentToken(cnf()), 'issuer_mismatch', context())
  } finally {
    agent.metadata = {}
  }
})

test('cnf.jwk must be present and a valid signing key', async () => {
  const { x } = delegate.publicJwk as { x: string }
  await refuses(await agent.agentToken(cnf(), { cnf: undefined }), 'invalid_jwt')
  await refuses(await agent.agentToken(cnf(), { cnf: { jkt: 'abc' } }), 'invalid_jwt')
  await refuses(await agent.agentToken({ kty: 'OKP', crv: 'Ed25519', x }), 'unsupported_algorithm')
  await refuses(await agent.agentToken({ kty: 'OKP', crv: 'X25519', x, alg: 'Ed25519' }), 'invalid_key')
  await refuses(await agent.agentToken({ ...delegate.privateJwk }), 'invalid_key')
})

test('agent-token claims: sub required, ps a server identifier, parent_agent an agent identifier', async () => {
  await refuses(await agent.agentToken(cnf(), { sub: undefined }), 'invalid_jwt')
  await refuses(await agent.agentToken(cnf(), { ps: 'http://ps.test' }), 'invalid_jwt')
  await refuses(await agent.agentToken(cnf(), { parent_agent: 'assistant@agent.test' }), 'invalid_jwt')
  await verifyToken(await agent.agentToken(cnf(), { sub: 'aauth:a+w1@agent.test', parent_agent: 'aauth:a@agent.test' }), context())
})

test('garbage never crashes: it is invalid_jwt', async () => {
  const ctx = context()
  for (const token of ['x', 'a.b.c', 'a.b', '...', `${base64url.encode('{')}.e30.c2ln`, `${base64url.encode('[]')}.e30.c2ln`, compact({ alg: 'Ed25519', typ: 'aa-agent+jwt', kid: 'k' }, {}).replace(/\.[^.]*\.$/, '.!!.'), 'e'.repeat(20_000)]) {
    await refuses(token, 'invalid_jwt', ctx)
  }
})

test('legacy agent+jwt is accepted with signatures.legacy true, refused with false', async () => {
  const legacyCnf = { kty: 'OKP', crv: 'Ed25519', x: (delegate.publicJwk as { x: string }).x, kid: 'delegate-key-1' }
  const claims = { iss: agent.origin, sub: 'delegate-1', exp: now() + 3600, cnf: { jwk: legacyCnf } }
  agent.jwks = { kind: 'no-alg' }
  try {
    const token = await agent.mint(claims, { alg: 'EdDSA', typ: 'agent+jwt' })
    const { key, identity } = await verifyToken(token, context({ signatures: { legacy: true } }))
    assert.equal(key.alg, 'Ed25519')
    assert.deepEqual([identity.tokenType, identity.agent, identity.agentDelegate, identity.level], ['agent+jwt', agent.origin, 'delegate-1', 'identified'])
    assert.equal(agent.hitsOn('/.well-known/aauth-agent'), 1, 'legacy discovery document, without .json')
    assert.equal(await hitsDuring(() => refuses(token, 'invalid_jwt', context({ signatures: { legacy: false } }))), 0)
    await refuses(await agent.mint({ ...claims, typ: undefined }, { alg: 'EdDSA', typ: 'aa-agent+jwt' }), 'invalid_jwt', context({ signatures: { legacy: true } }))
  } finally {
    agent.jwks = { kind: 'ok' }
  }
})

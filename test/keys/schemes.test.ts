import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import { calculateJwkThumbprint } from 'jose'
import { SignatureError, type SignatureErrorCode } from '../../src/errors.js'
import { resolveKey } from '../../src/keys/resolve.js'
import type { ResolveContext } from '../../src/keys/types.js'
import type { SignatureKeyMember } from '../../src/signature/types.js'
import { type AgentServer, startAgentServer } from '../../src/devkit/agent-server.js'
import { resolveContext, resourceConfig } from '../helpers/resolve-context.js'
import { newKey } from '../../src/devkit/keys.js'
import { createHash, X509Certificate } from 'node:crypto'
import { join } from 'node:path'
import { loadX509Anchors } from '../../src/keys/x509-anchors.js'
import { jktJwt, startPemServer, X509_FIXTURES, x509Fixture, type PemServer } from '../helpers/scheme-tokens.js'

let agent: AgentServer
let ctx: ResolveContext
before(async () => {
  agent = await startAgentServer()
  ctx = context()
})
after(() => agent.close())

function context(signatures: Record<string, unknown> = {}): ResolveContext {
  return resolveContext(resourceConfig({
    trust: { agent_providers: [agent.origin], person_servers: [agent.origin], insecure_issuers: [agent.origin] },
    signatures: { schemes: ['jwt', 'jwks_uri', 'jwks', 'hwk'], ...signatures },
  }))
}

function member(scheme: string, params: Record<string, string | number | boolean>, legacy = false): SignatureKeyMember {
  return { scheme, params: new Map(Object.entries(params)), legacy }
}

async function refuses(m: SignatureKeyMember, code: SignatureErrorCode, c = ctx): Promise<void> {
  await assert.rejects(resolveKey(m, c), (e: unknown) => e instanceof SignatureError && e.code === code)
}

test('hwk resolves an inline Ed25519 or ES256 key, pseudonymously', async () => {
  for (const alg of ['Ed25519', 'ES256'] as const) {
    const { publicJwk } = newKey(alg)
    const { kty, crv, x, y } = publicJwk as Record<string, string>
    const params: Record<string, string> = { alg, kty: kty!, crv: crv!, x: x! }
    if (y !== undefined) params.y = y
    const resolved = await resolveKey(member('hwk', params), ctx)
    assert.equal(resolved.key.alg, alg)
    assert.equal(resolved.identity.level, 'pseudonymous')
    assert.equal(resolved.identity.scheme, 'hwk')
    assert.equal(resolved.identity.agent, '')
  }
})

test('hwk: kid is refused, alg is required except in the legacy form', async () => {
  const { x } = newKey().publicJwk as { x: string }
  await refuses(member('hwk', { alg: 'Ed25519', kty: 'OKP', crv: 'Ed25519', x, kid: 'k' }), 'invalid_key')
  await refuses(member('hwk', { kty: 'OKP', crv: 'Ed25519', x }), 'unsupported_algorithm')
  await refuses(member('hwk', { alg: 'EdDSA', kty: 'OKP', crv: 'Ed25519', x }), 'unsupported_algorithm')
  await refuses(member('hwk', { alg: 'Ed25519', kty: 'OKP', crv: 'Ed25519', x: 5 }), 'invalid_key')
  const legacy = await resolveKey(member('hwk', { kty: 'OKP', crv: 'Ed25519', x }, true), ctx)
  assert.equal(legacy.key.alg, 'Ed25519')
  await refuses(member('hwk', { kty: 'OKP', crv: 'Ed25519', x }, true), 'unsupported_algorithm', context({ legacy: false }))
})

test('jwks_uri resolves through the metadata document, identifying the server', async () => {
  const resolved = await resolveKey(member('jwks_uri', { id: agent.origin, dwk: 'aauth-agent.json', kid: agent.keys[0]!.kid }), ctx)
  assert.equal(resolved.identity.level, 'identified')
  assert.equal(resolved.identity.scheme, 'jwks_uri')
  assert.equal(resolved.identity.agent, agent.origin)
  assert.equal(resolved.key.thumbprint.length, 43)
})

test('jwks_uri: unknown kid, issuer missing or mismatched, unknown dwk', async () => {
  const c = context()
  await refuses(member('jwks_uri', { id: agent.origin, dwk: 'aauth-person.json', kid: 'nope' }), 'unknown_key', c)
  agent.metadata = { issuer: 'http://127.0.0.1:1' }
  await refuses(member('jwks_uri', { id: agent.origin, dwk: 'aauth-agent.json', kid: agent.keys[0]!.kid }), 'issuer_mismatch', context())
  agent.metadata = { issuer: `${agent.origin}/` }
  await refuses(member('jwks_uri', { id: agent.origin, dwk: 'aauth-agent.json', kid: agent.keys[0]!.kid }), 'issuer_mismatch', context())
  agent.metadata = { issuer: undefined }
  await refuses(member('jwks_uri', { id: agent.origin, dwk: 'aauth-agent.json', kid: agent.keys[0]!.kid }), 'issuer_missing', context())
  agent.metadata = {}
  await refuses(member('jwks_uri', { id: agent.origin, dwk: 'openid-configuration', kid: 'k' }), 'invalid_key')
  await refuses(member('jwks_uri', { id: agent.origin, dwk: 'aauth-agent.json' }), 'invalid_key')
})

test('jwks_uri never fetches an id that is not trusted for the role its dwk names', async () => {
  const before = agent.hitsOn('/.well-known/aauth-access.json')
  await refuses(member('jwks_uri', { id: agent.origin, dwk: 'aauth-access.json', kid: 'k' }), 'invalid_key')
  await refuses(member('jwks_uri', { id: 'https://evil.test', dwk: 'aauth-agent.json', kid: 'k' }), 'invalid_key')
  assert.equal(agent.hitsOn('/.well-known/aauth-access.json'), before)
})

test('jwks resolves the key at a JWKS URL, which is the identity', async () => {
  const url = `${agent.origin}/jwks.json`
  const resolved = await resolveKey(member('jwks', { url, kid: agent.keys[0]!.kid }), ctx)
  assert.equal(resolved.identity.agent, url)
  assert.equal(resolved.identity.scheme, 'jwks')
  await refuses(member('jwks', { url: 'https://evil.test/jwks.json', kid: 'k' }), 'invalid_key')
  await refuses(member('jwks', { url, kid: 'unknown' }), 'unknown_key')
})

test('legacy jwks: id + well-known follows the document, id alone is the JWKS', async () => {
  agent.jwks = { kind: 'no-alg' }
  const c = context()
  const kid = agent.keys[0]!.kid
  const viaDoc = await resolveKey(member('jwks', { id: agent.origin, kid, 'well-known': 'aauth-agent' }, true), c)
  assert.equal(viaDoc.key.alg, 'Ed25519', 'a legacy key without alg means Ed25519')
  assert.equal(viaDoc.identity.agent, agent.origin)
  const direct = await resolveKey(member('jwks', { id: `${agent.origin}/jwks.json`, kid }, true), c)
  assert.equal(direct.key.thumbprint, viaDoc.key.thumbprint)
  await refuses(member('jwks', { id: agent.origin, kid, 'well-known': 'whatever' }, true), 'invalid_key', c)
  agent.jwks = { kind: 'ok' }
})

test('a scheme that is not accepted or not implemented is unsupported_scheme', async () => {
  for (const scheme of ['x509', 'jkt-jwt', 'cached', 'self-jwt', 'toString', '__proto__']) {
    await refuses(member(scheme, {}), 'unsupported_scheme')
  }
  await refuses(member('jwks', { url: `${agent.origin}/jwks.json`, kid: 'k' }), 'unsupported_scheme', context({ schemes: ['jwt'] }))
  await refuses(member('hwk', {}), 'unsupported_scheme', context({ schemes: ['jwt', 'jwks_uri'] }))
})

test('jwt without a jwt parameter is invalid_signature (aauth-go signature-key vectors)', async () => {
  await refuses(member('jwt', {}), 'invalid_signature')
  await refuses(member('jwt', { jwt: true }), 'invalid_signature')
  await refuses(member('jwt', { jwt: 'x' }), 'invalid_jwt')
})

describe('jkt-jwt (Signature-Key -09 §3.5)', () => {
  const jktCtx = (): ResolveContext => context({ schemes: ['jkt-jwt'] })
  const enclave = newKey('ES256')
  const delegate = newKey('Ed25519')
  const jkt = (jwt: string): SignatureKeyMember => member('jkt-jwt', { jwt })

  test('resolves cnf.jwk, pseudonymously, with the recomputed iss URN as the agent', async () => {
    for (const typ of ['jkt-s256+jwt', 'jkt-s512+jwt']) {
      const resolved = await resolveKey(jkt(await jktJwt(enclave, delegate.publicJwk, { typ })), jktCtx())
      assert.equal(resolved.key.thumbprint, (await resolveKey(member('hwk', { ...delegate.publicJwk }), context())).key.thumbprint)
      assert.equal(resolved.identity.level, 'pseudonymous')
      assert.equal(resolved.identity.scheme, 'jkt-jwt')
      assert.equal(resolved.identity.tokenType, typ)
      assert.match(resolved.identity.agent, typ === 'jkt-s256+jwt' ? /^urn:jkt:sha-256:[\w-]{43}$/ : /^urn:jkt:sha-512:[\w-]{86}$/)
    }
  })

  test('refusals carry the draft codes', async () => {
    const c = jktCtx()
    const now = Math.floor(Date.now() / 1000)
    const other = newKey('ES256')
    await refuses(jkt(await jktJwt(enclave, delegate.publicJwk, { typ: 'aa-agent+jwt' })), 'invalid_jwt', c)
    await refuses(jkt(await jktJwt(enclave, delegate.publicJwk, { typ: 'jkt-s384+jwt' })), 'invalid_jwt', c)
    await refuses(jkt(await jktJwt(enclave, delegate.publicJwk, { claims: { iss: 'urn:jkt:sha-256:AAAA' } })), 'invalid_jwt', c)
    // iss of the s256 thumbprint under the s512 typ: the typ and the prefix must agree
    const s256Iss = `urn:jkt:sha-256:${await calculateJwkThumbprint(enclave.publicJwk, 'sha256')}`
    await refuses(jkt(await jktJwt(enclave, delegate.publicJwk, { typ: 'jkt-s512+jwt', claims: { iss: s256Iss } })), 'invalid_jwt', c)
    // the header jwk is not the key that signed
    await refuses(jkt(await jktJwt(enclave, delegate.publicJwk, { header: { jwk: other.publicJwk } })), 'invalid_jwt', c)
    await refuses(jkt(await jktJwt(enclave, delegate.publicJwk, { header: { jwk: undefined } })), 'invalid_jwt', c)
    await refuses(jkt(await jktJwt(enclave, delegate.publicJwk, { now: now - 7200 })), 'expired_jwt', c)
    await refuses(jkt(await jktJwt(enclave, delegate.publicJwk, { now: now + 600 })), 'clock_skew', c)
    await refuses(jkt(await jktJwt(enclave, delegate.publicJwk, { claims: { iat: undefined } })), 'invalid_jwt', c)
    await refuses(jkt(await jktJwt(enclave, delegate.publicJwk, { claims: { cnf: undefined } })), 'invalid_jwt', c)
    await refuses(jkt(await jktJwt(enclave, { ...delegate.publicJwk, alg: 'EdDSA' } as never)), 'unsupported_algorithm', c)
    await refuses(jkt(await jktJwt(enclave, { ...delegate.publicJwk, d: delegate.privateJwk.d } as never)), 'invalid_key', c)
    await refuses(jkt('not.a.jwt!'), 'invalid_jwt', c)
    await refuses(member('jkt-jwt', {}), 'invalid_key', c)
    await refuses(jkt(await jktJwt(enclave, delegate.publicJwk)), 'unsupported_scheme', context({ schemes: ['hwk'] }))
  })
})

describe('self-jwt (Signature-Key -09 §3.9)', () => {
  const selfCtx = (): ResolveContext => context({ schemes: ['self-jwt'] })
  const self = (jwt: string): SignatureKeyMember => member('self-jwt', { jwt })
  const claims = (extra: Record<string, unknown> = {}): Record<string, unknown> => {
    const now = Math.floor(Date.now() / 1000)
    return { iss: agent.origin, dwk: 'aauth-agent.json', iat: now, exp: now + 300, ...extra }
  }

  test('the issuer key that signed the JWT is the request key; the issuer is identified', async () => {
    const resolved = await resolveKey(self(await agent.mint(claims(), { typ: 'aa-event+jwt' })), selfCtx())
    assert.equal(resolved.key.thumbprint, await calculateJwkThumbprint(agent.keys.at(-1)!.publicJwk))
    assert.equal(resolved.identity.level, 'identified')
    assert.equal(resolved.identity.scheme, 'self-jwt')
    assert.equal(resolved.identity.agent, agent.origin)
    assert.equal(resolved.identity.tokenType, 'aa-event+jwt')
  })

  test('refusals carry the draft codes', async () => {
    const c = selfCtx()
    const now = Math.floor(Date.now() / 1000)
    await refuses(self(await agent.mint(claims(), { typ: 'aa-agent+jwt' })), 'invalid_jwt', c)
    await refuses(self(await agent.mint(claims(), { typ: 'jkt-s256+jwt' })), 'invalid_jwt', c)
    await refuses(self(await agent.mint(claims(), { header: { typ: undefined } })), 'invalid_jwt', c)
    await refuses(self(await agent.mint(claims({ exp: now - 10 }), { typ: 'aa-event+jwt' })), 'expired_jwt', c)
    await refuses(self(await agent.mint(claims({ exp: undefined }), { typ: 'aa-event+jwt' })), 'invalid_jwt', c)
    await refuses(self(await agent.mint(claims({ dwk: undefined }), { typ: 'aa-event+jwt' })), 'invalid_jwt', c)
    await refuses(self(await agent.mint(claims({ cnf: { jwk: newKey().publicJwk } }), { typ: 'aa-event+jwt' })), 'invalid_jwt', c)
    await refuses(self(await agent.mint(claims({ aud: 'https://elsewhere.test' }), { typ: 'aa-event+jwt' })), 'invalid_jwt', c)
    await refuses(self(await agent.mint(claims({ iss: 'https://evil.test' }), { typ: 'aa-event+jwt' })), 'invalid_jwt', c)
    await refuses(self(await agent.mint(claims(), { typ: 'aa-event+jwt', kid: 'nope' })), 'unknown_key', c)
    // signed by a key the issuer does not publish, under a published kid
    const stranger = { ...newKey('Ed25519'), kid: agent.keys.at(-1)!.kid }
    await refuses(self(await agent.mint(claims(), { typ: 'aa-event+jwt', key: stranger })), 'invalid_jwt', c)
    agent.metadata = { issuer: 'https://other.test' }
    await refuses(self(await agent.mint(claims(), { typ: 'aa-event+jwt' })), 'issuer_mismatch', selfCtx())
    agent.metadata = { issuer: undefined }
    await refuses(self(await agent.mint(claims(), { typ: 'aa-event+jwt' })), 'issuer_missing', selfCtx())
    agent.metadata = {}
    await refuses(self('a.b'), 'invalid_jwt', c)
  })
})

describe('x509 (Signature-Key -09 §3.10)', () => {
  let pem: PemServer
  let anchors: X509Certificate[]
  before(async () => {
    pem = await startPemServer()
    anchors = await loadX509Anchors([join(X509_FIXTURES, 'root.pem')])
  })
  after(() => pem.close())

  const x509Ctx = (now?: () => number, withAnchors = true): ResolveContext =>
    resolveContext(resourceConfig({
      trust: { insecure_issuers: [pem.origin] },
      signatures: { schemes: ['x509'] },
      x509Anchors: withAnchors ? anchors : [],
    }), now === undefined ? {} : { now })
  /** The member as the parser hands it over: x5t a Byte Sequence, so base64. */
  const x509 = (chain: string, x5tOf = chain): SignatureKeyMember => {
    const x5t = createHash('sha256').update(new X509Certificate(x509Fixture(x5tOf)).raw).digest('base64')
    return member('x509', { x5u: `${pem.origin}/${chain}`, x5t })
  }

  test('a chain to a configured anchor resolves the leaf key; the subject is identified', async () => {
    for (const [chain, alg] of [['ed25519-chain.pem', 'Ed25519'], ['p256-chain.pem', 'ES256']] as const) {
      const resolved = await resolveKey(x509(chain), x509Ctx())
      assert.equal(resolved.key.alg, alg)
      assert.equal(resolved.identity.level, 'identified')
      assert.equal(resolved.identity.scheme, 'x509')
      assert.match(resolved.identity.agent, /^CN=(ed25519|p256)\.agent\.test, O=Test Agents$/)
    }
  })

  test('refusals: expired or not yet valid (the injected clock), untrusted, x5t mismatch, broken, usage, malformed', async () => {
    const leaf = new X509Certificate(x509Fixture('ed25519.pem'))
    const after = Date.parse(leaf.validTo) / 1000 + 1
    const before = Date.parse(leaf.validFrom) / 1000 - 1
    await refuses(x509('ed25519-chain.pem'), 'invalid_key', x509Ctx(() => after))
    await refuses(x509('ed25519-chain.pem'), 'invalid_key', x509Ctx(() => before))
    await refuses(x509('untrusted-chain.pem'), 'invalid_key', x509Ctx())
    await refuses(x509('ed25519-chain.pem', 'p256.pem'), 'invalid_key', x509Ctx())
    await refuses(x509('ed25519.pem'), 'invalid_key', x509Ctx()) // the intermediate is missing
    await refuses(x509('server-only-chain.pem'), 'invalid_key', x509Ctx())
    await refuses(x509('ed25519-chain.pem'), 'invalid_key', x509Ctx(undefined, false))
    await refuses(x509('nothing-here.pem', 'ed25519.pem'), 'invalid_key', x509Ctx())
    await refuses(member('x509', { x5u: `${pem.origin}/ed25519-chain.pem`, x5t: 'AAAA' }), 'invalid_key', x509Ctx())
    await refuses(member('x509', { x5u: `${pem.origin}/ed25519-chain.pem` }), 'invalid_key', x509Ctx())
    // the chain is fetched only from https or an insecure_issuers origin
    await refuses(member('x509', { x5u: 'http://127.0.0.2:1/c.pem', x5t: createHash('sha256').update('x').digest('base64') }), 'invalid_key', x509Ctx())
  })

  test('trust.x509_anchors must name readable CA certificates', async () => {
    await assert.rejects(loadX509Anchors([join(X509_FIXTURES, 'ed25519.pem')]), /is not a CA certificate/)
    await assert.rejects(loadX509Anchors([join(X509_FIXTURES, 'ed25519.key')]), /no PEM certificate/)
    await assert.rejects(loadX509Anchors([join(X509_FIXTURES, 'missing.pem')]), /cannot read/)
  })
})

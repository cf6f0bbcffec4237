import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { ANONYMOUS } from '../../src/identity.js'
import { AAuthValue, buildPolicyContext, policyRequestFrom, RequestValue, toCelValue } from '../../src/policy/context.js'
import { decide, identity, policyFrom, request } from '../helpers/policy.js'

const NOW = new Date('2026-06-01T00:00:00Z')

describe('buildPolicyContext', () => {
  test('builds only the variables the policy reads', () => {
    const id = identity()
    const req = request()
    assert.deepEqual(Object.keys(buildPolicyContext(id, req, new Set(['aauth']), NOW)), ['aauth'])
    assert.deepEqual(Object.keys(buildPolicyContext(id, req, new Set(['request', 'now']), NOW)), ['request', 'now'])
    assert.deepEqual(buildPolicyContext(id, req, new Set(), NOW), {})
  })

  test('a compiled policy reading only aauth never touches the request', () => {
    const p = policyFrom(`name: p\nrules:\n  - allow: 'aauth.agent != ""'\n`)
    const untouchable = new Proxy(request(), { get: () => assert.fail('the request was read') })
    const ctx = buildPolicyContext(identity(), untouchable, p.reads, NOW)
    assert.ok(ctx.aauth instanceof AAuthValue && ctx.request === undefined && ctx.now === undefined)
  })

  test('claims and the act chain are converted only when a rule reads them', () => {
    let reads = 0
    const claims = new Proxy({ exp: 1 }, { ownKeys: (t) => (reads++, Reflect.ownKeys(t)) })
    const p = policyFrom(`name: p\nrules:\n  - allow: 'aauth.agent != ""'\n`)
    decide(p, identity({ claims }))
    assert.equal(reads, 0)
    decide(policyFrom(`name: p\nrules:\n  - allow: 'aauth.jwt_claims.exp == 1'\n  - allow: 'aauth.jwt_claims.exp == 2'\n`), identity({ claims }))
    assert.equal(reads, 1, 'converted once per request, however many rules read them')
  })

  test('an anonymous identity reads as empty strings and lists, not errors', () => {
    const p = policyFrom(`
name: p
rules:
  - require: 'aauth.level == "none" && aauth.scheme == "" && aauth.token_type == "" && aauth.agent == ""'
  - require: 'aauth.agent_delegate == "" && aauth.user == "" && aauth.issuer == "" && aauth.thumbprint == ""'
  - require: 'size(aauth.scope) == 0 && size(aauth.delegation) == 0 && size(aauth.jwt_claims) == 0'
  - require: '!("data.read" in aauth.scope) && !aauth.agent_delegate.startsWith("revoked-")'
`)
    assert.equal(decide(p, ANONYMOUS).result, 'allow')
  })
})

describe('JSON claims are BigInt-safe', () => {
  test('integer claims compare with int literals', () => {
    const p = policyFrom(`name: p\nrules:\n  - require: 'aauth.jwt_claims.exp > 1700000000 && aauth.jwt_claims.iat == 1600000000'\n`)
    assert.equal(decide(p, identity({ claims: { exp: 1800000000, iat: 1600000000 } })).result, 'allow')
    assert.equal(decide(p, identity({ claims: { exp: 1600000000, iat: 1600000000 } })).result, 'deny')
  })

  test('integers become int, fractions double, and nesting is converted', () => {
    assert.deepEqual(toCelValue({ a: 1, b: 1.5, c: [2, { d: 3 }], e: 'x', f: null, g: true }), {
      a: 1n, b: 1.5, c: [2n, { d: 3n }], e: 'x', f: null, g: true,
    })
  })

  test('integers beyond 2^53 stay doubles rather than pretending to be exact', () => {
    assert.equal(toCelValue(2 ** 60), 2 ** 60)
    assert.equal(toCelValue(Number.MAX_SAFE_INTEGER), BigInt(Number.MAX_SAFE_INTEGER))
  })

  test('nested claims and act entries are usable in comparisons', () => {
    const p = policyFrom(`
name: p
rules:
  - require: 'aauth.jwt_claims.cnf.n >= 2 && aauth.jwt_claims.ratio < 0.75'
  - require: 'aauth.delegation[0].depth == 1 && aauth.delegation.all(a, a.depth < 5)'
`)
    const id = identity({ claims: { cnf: { n: 2 }, ratio: 0.5 }, delegation: [{ depth: 1 }, { depth: 4 }] })
    assert.equal(decide(p, id).result, 'allow')
  })

  test('a __proto__ claim is an ordinary key', () => {
    const claims = JSON.parse('{"__proto__": {"admin": true}}') as Record<string, unknown>
    const converted = toCelValue(claims) as Record<string, unknown>
    assert.equal(Object.getPrototypeOf(converted), Object.prototype)
    assert.ok(Object.hasOwn(converted, '__proto__'))
    assert.equal((converted as { admin?: unknown }).admin, undefined)
    const p = policyFrom(`name: p\nrules:\n  - allow: 'has(aauth.jwt_claims.admin)'\n`)
    assert.equal(decide(p, identity({ claims })).result, 'deny')
  })
})

describe('request', () => {
  test('header names are lower-cased and repeated headers joined with ", "', () => {
    const r = new RequestValue(request({ headers: { 'X-Tenant': 'acme', accept: ['a/b', 'c/d'], absent: undefined } }))
    assert.deepEqual({ ...r.headers }, { 'x-tenant': 'acme', accept: 'a/b, c/d' })
  })

  test('policies read headers, query, method, path and host', () => {
    const p = policyFrom(`
name: p
rules:
  - require: 'request.headers["x-tenant"] == "acme" && request.query["page"] == "2"'
  - require: 'request.method == "GET" && request.path == "/data/x" && request.host == "api.example.com"'
`)
    const req = policyRequestFrom('GET', '/data/x?page=2&page=3', 'api.example.com', { 'x-tenant': 'acme' })
    assert.equal(decide(p, identity(), req).result, 'allow')
  })

  test('policyRequestFrom splits the path and parses the query only when read', () => {
    const req = policyRequestFrom('GET', '/a/b?x=1&x=2&y=%20', 'h', {})
    assert.equal(req.path, '/a/b')
    assert.deepEqual({ ...req.query }, { x: '1', y: ' ' })
    assert.deepEqual({ ...policyRequestFrom('GET', '/a', 'h', {}).query }, {})
  })

  test('now is the evaluation time handed in', () => {
    const p = policyFrom(`name: p\nrules:\n  - require: 'now == timestamp("2026-06-01T00:00:00Z")'\n`)
    assert.equal(decide(p, identity(), request(), NOW).result, 'allow')
  })
})

import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import type { ConfigProblem } from '../../src/errors.js'
import { compileRule } from '../../src/policy/compile.js'
import { decide, identity, policyFrom, problemsOf, request } from '../helpers/policy.js'

function compileOne(source: string): { problems: ConfigProblem[]; ok: boolean } {
  const problems: ConfigProblem[] = []
  const rule = compileRule({ kind: 'require', source, file: 'p.yaml', line: 4 }, problems)
  return { problems, ok: rule !== undefined }
}

describe('the CEL environment (README "Policies" variables)', () => {
  const typeChecks = [
    'aauth.agent_delegate.startsWith("revoked-")',
    '"data.read" in aauth.scope',
    'size(aauth.delegation) <= 2',
    'aauth.jwt_claims.exp > 0',
    'now < timestamp("2030-01-01T00:00:00Z")',
    'aauth.level == "identified" && aauth.scheme == "jwt" && aauth.token_type == "aa-agent+jwt"',
    'aauth.user == "" && aauth.issuer == "" && aauth.thumbprint != "x"',
    'aauth.delegation.all(a, "sub" in a)',
    'request.method == "GET" && request.path.startsWith("/data") && request.host == "h"',
    'request.query["page"] == "2" || request.headers["x-tenant"] == "acme"',
    'aauth.jwt_claims.exp > int(now)',
  ]
  for (const source of typeChecks) {
    test(`type-checks \`${source}\``, () => assert.deepEqual(compileOne(source).problems, []))
  }

  test('the brief examples evaluate as expected', () => {
    const p = policyFrom(`
name: p
rules:
  - deny: 'aauth.agent_delegate.startsWith("revoked-")'
  - require: '"data.read" in aauth.scope'
  - require: 'size(aauth.delegation) <= 2'
  - require: 'aauth.jwt_claims.exp > 1700000000 && aauth.jwt_claims.exp > int(now)'
  - require: 'now < timestamp("2030-01-01T00:00:00Z")'
`)
    const ok = identity({ scope: ['data.read'], delegation: [{ sub: 'a' }], claims: { exp: 1900000000 } })
    assert.equal(decide(p, ok).result, 'allow')
    assert.equal(decide(p, { ...ok, agentDelegate: 'revoked-1' }).reason, 'deny_matched')
    assert.equal(decide(p, { ...ok, delegation: [{}, {}, {}] }).reason, 'require_failed')
    assert.equal(decide(p, { ...ok, claims: { exp: 1600000000 } }).reason, 'require_failed')
    assert.equal(decide(p, ok, request(), new Date('2031-01-01T00:00:00Z')).reason, 'require_failed')
  })
})

describe('compiling at load', () => {
  test('a syntax error names the file, the line and the expression', () => {
    const err = problemsOf({ 'p.yaml': `name: p\nrules:\n  - allow: 'true'\n  - deny: 'aauth.agent =='\n` })
    assert.equal(err.problems.length, 1)
    const [p] = err.problems
    assert.deepEqual([p?.file, p?.line, p?.key], ['p.yaml', 4, 'rules.1.deny'])
    assert.match(p?.message ?? '', /^`aauth\.agent ==`: syntax error: /)
    assert.match(err.message, /^p\.yaml:4: rules\.1\.deny: `aauth\.agent ==`: syntax error/)
  })

  test('a misspelt field is a type error at load, not a deny per request', () => {
    const [p] = problemsOf({ 'p.yaml': `name: p\nrules:\n  - allow: 'aauth.agnet == "x"'\n` }).problems
    assert.equal(p?.line, 3)
    assert.match(p?.message ?? '', /`aauth\.agnet == "x"`: type error: No such key: agnet/)
  })

  test('comparing values of different types is a type error', () => {
    assert.match(compileOne('aauth.agent == 1').problems[0]?.message ?? '', /type error: no such overload: string == int/)
  })

  test('an undeclared variable is a type error', () => {
    assert.match(compileOne('user == "alice"').problems[0]?.message ?? '', /type error/)
  })

  test('an expression that is not a bool is refused', () => {
    assert.match(compileOne('aauth.agent').problems[0]?.message ?? '', /must be a bool expression, but its type is string/)
    assert.match(compileOne('size(aauth.scope)').problems[0]?.message ?? '', /its type is int/)
  })

  test('an expression whose type is only known at runtime (dyn) is accepted', () => {
    assert.equal(compileOne('aauth.jwt_claims.email_verified').ok, true)
  })

  test('every broken expression of every file is reported at once', () => {
    const err = problemsOf({
      'a.yaml': `name: a\nrules:\n  - allow: 'aauth.agent +'\n  - deny: 'request.nope'\n`,
      'b.yaml': `name: b\nrules:\n  - require: 'now > 1'\n`,
    })
    assert.deepEqual(
      err.problems.map((p) => `${p.file}:${p.line}`),
      ['a.yaml:3', 'a.yaml:4', 'b.yaml:3'],
    )
  })
})

describe('what a policy reads', () => {
  test('each rule records the top-level variables it mentions', () => {
    const p = policyFrom(`
name: p
rules:
  - allow: 'aauth.agent == "x"'
  - require: 'request.method == "GET" || now > timestamp("2020-01-01T00:00:00Z")'
  - deny: 'aauth.scope.exists(s, s == request.path)'
`)
    assert.deepEqual(p.rules.map((r) => [...r.reads].sort()), [['aauth'], ['now', 'request'], ['aauth', 'request']])
    assert.deepEqual([...p.reads].sort(), ['aauth', 'now', 'request'])
  })

  test('a policy that only reads aauth reads nothing else', () => {
    assert.deepEqual([...policyFrom(`name: p\nrules:\n  - allow: '"a" in aauth.scope'\n`).reads], ['aauth'])
  })

  test('compiled policies and rules are frozen', () => {
    const p = policyFrom(`name: p\nrules:\n  - allow: 'true'\n`)
    assert.ok(Object.isFrozen(p) && Object.isFrozen(p.rules) && Object.isFrozen(p.rules[0]))
    assert.deepEqual([...p.reads], [])
  })
})

import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { AGENT, decide, identity, policyFrom, request } from '../helpers/policy.js'

const README_EXAMPLE = `
name: data-access
rules:
  - allow: 'aauth.agent == "https://agent.supply-chain.com"'
  - deny: 'aauth.agent_delegate.startsWith("revoked-")'
  - require: '"data.read" in aauth.scope || request.method == "GET"'
`

describe('evaluatePolicy: rule kinds', () => {
  test('an allow rule that matches allows, and names the rule', () => {
    const d = decide(policyFrom(`name: p\nrules:\n  - allow: 'aauth.agent == "${AGENT}"'\n`))
    assert.equal(d.result, 'allow')
    assert.equal(d.reason, 'allowed')
    assert.equal(d.rule?.kind, 'allow')
    assert.equal(d.rule?.line, 3)
  })

  test('when allow rules exist and none matches, the request is denied without a rule', () => {
    const d = decide(policyFrom(`name: p\nrules:\n  - allow: 'aauth.agent == "https://other.example"'\n`))
    assert.deepEqual([d.result, d.reason, d.rule], ['deny', 'no_allow_matched', undefined])
  })

  test('any one of several allow rules suffices', () => {
    const p = policyFrom(`name: p\nrules:\n  - allow: 'aauth.user == "alice"'\n  - allow: 'aauth.agent == "${AGENT}"'\n`)
    assert.equal(decide(p).result, 'allow')
    assert.equal(decide(p).rule?.source, `aauth.agent == "${AGENT}"`)
  })

  test('a matching deny denies, and names the deny rule', () => {
    const p = policyFrom(`name: p\nrules:\n  - deny: 'aauth.agent_delegate == "delegate-1"'\n`)
    const d = decide(p)
    assert.deepEqual([d.result, d.reason, d.rule?.kind], ['deny', 'deny_matched', 'deny'])
  })

  test('a deny that does not match, with no allow rules, lets the request through', () => {
    const d = decide(policyFrom(`name: p\nrules:\n  - deny: 'aauth.agent_delegate == "nobody"'\n`))
    assert.deepEqual([d.result, d.rule], ['allow', undefined])
  })

  test('a require that does not hold denies', () => {
    const d = decide(policyFrom(`name: p\nrules:\n  - require: '"data.write" in aauth.scope'\n`))
    assert.deepEqual([d.result, d.reason, d.rule?.kind], ['deny', 'require_failed', 'require'])
  })

  test('every require must hold', () => {
    const p = policyFrom(`name: p\nrules:\n  - require: 'aauth.level == "identified"'\n  - require: 'request.method == "GET"'\n`)
    assert.equal(decide(p).result, 'allow')
    const d = decide(p, identity(), request({ method: 'PUT' }))
    assert.deepEqual([d.result, d.rule?.source], ['deny', 'request.method == "GET"'])
  })
})

describe('evaluatePolicy: combinations (the README "Policies" example)', () => {
  const p = policyFrom(README_EXAMPLE)

  test('the trusted agent reading without scopes is allowed', () => {
    assert.equal(decide(p).result, 'allow')
  })

  test('a deny beats a matching allow', () => {
    const d = decide(p, identity({ agentDelegate: 'revoked-7' }))
    assert.deepEqual([d.result, d.reason], ['deny', 'deny_matched'])
  })

  test('a failing require beats a matching allow', () => {
    const d = decide(p, identity(), request({ method: 'POST' }))
    assert.deepEqual([d.result, d.reason], ['deny', 'require_failed'])
  })

  test('passing the deny and require rules is not enough without a matching allow', () => {
    const d = decide(p, identity({ agent: 'https://agent.other.example', scope: ['data.read'] }))
    assert.deepEqual([d.result, d.reason], ['deny', 'no_allow_matched'])
  })

  test('a write with data.read by the trusted agent is allowed', () => {
    assert.equal(decide(p, identity({ scope: ['data.read'] }), request({ method: 'POST' })).result, 'allow')
  })
})

describe('evaluatePolicy: fails closed', () => {
  test('a require dividing by zero denies and records the error', () => {
    const d = decide(policyFrom(`name: p\nrules:\n  - require: 'size(aauth.scope) / 0 == 1'\n`))
    assert.deepEqual([d.result, d.reason, d.rule?.kind], ['deny', 'error', 'require'])
    assert.match(d.error ?? '', /division by zero/)
    assert.match(d.detail, /require rule failed to evaluate: division by zero/)
  })

  test('a deny reading a missing claim denies and names the key', () => {
    const d = decide(policyFrom(`name: p\nrules:\n  - deny: 'aauth.jwt_claims.banned == true'\n`))
    assert.deepEqual([d.result, d.reason], ['deny', 'error'])
    assert.match(d.error ?? '', /No such key: banned/)
  })

  test('a missing header read by index denies', () => {
    const d = decide(policyFrom(`name: p\nrules:\n  - require: 'request.headers["x-tenant"] == "acme"'\n`))
    assert.deepEqual([d.result, d.reason], ['deny', 'error'])
    assert.match(d.error ?? '', /x-tenant/)
  })

  test('a dyn expression that is not a bool at runtime denies', () => {
    const p = policyFrom(`name: p\nrules:\n  - allow: 'aauth.jwt_claims.admin'\n`)
    const d = decide(p, identity({ claims: { admin: 'yes' } }))
    assert.deepEqual([d.result, d.reason], ['deny', 'error'])
    assert.match(d.error ?? '', /returned a string, not a bool/)
    assert.equal(decide(p, identity({ claims: { admin: true } })).result, 'allow')
  })

  test('an allow that fails to evaluate denies when no other allow matches', () => {
    const p = policyFrom(`name: p\nrules:\n  - allow: 'aauth.jwt_claims.role == "admin"'\n  - allow: 'aauth.user == "alice"'\n`)
    const d = decide(p)
    assert.deepEqual([d.result, d.reason, d.rule?.source], ['deny', 'error', 'aauth.jwt_claims.role == "admin"'])
  })

  test('an allow that fails to evaluate does not stop another allow from matching', () => {
    const p = policyFrom(`name: p\nrules:\n  - allow: 'aauth.jwt_claims.role == "admin"'\n  - allow: 'aauth.agent == "${AGENT}"'\n`)
    assert.equal(decide(p).result, 'allow')
  })

  test('a deny that fails to evaluate denies even when an allow matches', () => {
    const p = policyFrom(`name: p\nrules:\n  - allow: 'true'\n  - deny: 'aauth.jwt_claims.suspended'\n`)
    assert.deepEqual([decide(p).result, decide(p).reason], ['deny', 'error'])
  })
})

import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { ANONYMOUS } from '../../src/identity.js'
import { prefersDeferred } from '../../src/resource/deferred.js'
import { loginHintOf } from '../../src/resource/login-hint.js'
import { resourceLink } from '../../src/resource/metadata.js'
import { advertisedMode, routeAccess } from '../../src/resource/access-mode.js'
import { MemoryValueStore } from '../../src/store/memory.js'

describe('access mode names', () => {
  test('the pre--11 names map to the -11 modes; open advertises none, pseudonymous agent-token', () => {
    assert.equal(routeAccess('identified'), 'agent-token')
    assert.equal(routeAccess('authorized'), 'auth-token')
    assert.equal(routeAccess('person-token'), 'person-token')
    assert.equal(advertisedMode('open'), undefined)
    assert.equal(advertisedMode('pseudonymous'), 'agent-token')
    assert.equal(advertisedMode('session-token'), 'session-token')
  })
})

describe('Prefer (RFC 7240) asks for the deferred form', () => {
  for (const [value, expected] of [
    ['respond-async', true],
    ['wait=10', true],
    ['return=minimal, respond-async', true],
    ['respond-async-not', false],
    ['return=minimal', false],
    ['wait=soon', false],
  ] as const) {
    test(`${value} -> ${expected}`, () => assert.equal(prefersDeferred({ prefer: value }), expected))
  }
  test('no Prefer -> false', () => assert.equal(prefersDeferred({}), false))
})

describe('login_hint', () => {
  const withClaim = (hint: unknown) => ({ ...ANONYMOUS, claims: { login_hint: hint } })
  test('the presented token wins over the query', () => assert.equal(loginHintOf(withClaim('a@x'), '?login_hint=b%40x'), 'a@x'))
  test('the query, decoded, when the token has none', () => assert.equal(loginHintOf(ANONYMOUS, '?q=1&login_hint=b%40x'), 'b@x'))
  test('nothing when neither has one', () => assert.equal(loginHintOf(ANONYMOUS, '?'), undefined))
  test('control characters and overlong values are dropped', () => {
    assert.equal(loginHintOf(withClaim('a\nb'), '?'), undefined)
    assert.equal(loginHintOf(withClaim('x'.repeat(257)), '?'), undefined)
    assert.equal(loginHintOf(ANONYMOUS, '?login_hint='), undefined)
  })
})

describe('the aauth-resource Link target must be a server identifier', () => {
  test('https host only', () => assert.equal(resourceLink('https://api.example'), '<https://api.example/.well-known/aauth-resource.json>; rel="aauth-resource"'))
  for (const issuer of ['http://api.example', 'https://api.example:8443', 'https://API.example', 'https://api.example/v1']) {
    test(`none for ${issuer}`, () => assert.equal(resourceLink(issuer), undefined))
  }
})

describe('MemoryValueStore', () => {
  test('values expire, and a full store keeps live values rather than evicting them', () => {
    let now = 0
    const store = new MemoryValueStore(2, () => now)
    store.put('a', '1', 10)
    store.put('b', '2', 1)
    store.put('c', '3', 10)
    assert.equal(store.get('c'), undefined, 'full of live values: not kept')
    assert.equal(store.get('a'), '1')
    now = 1500
    assert.equal(store.get('b'), undefined, 'expired')
    store.put('c', '3', 10)
    assert.equal(store.get('c'), '3', 'room once an expired value is swept')
  })
})

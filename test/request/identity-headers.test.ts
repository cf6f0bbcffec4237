import assert from 'node:assert/strict'
import type { IncomingHttpHeaders } from 'node:http'
import { describe, test } from 'node:test'
import { ANONYMOUS, type Identity } from '../../src/identity.js'
import { identityValue, setIdentityHeaders } from '../../src/proxy/identity-headers.js'
import { prng } from '../helpers/prng.js'

/** What a field value may be once a parser trimmed it (RFC 9110 §5.5): no CR, LF, NUL, no outer whitespace. */
const FIELD_VALUE = /^([\x21-\x7e\x80-\xff]([\x20-\x7e\x80-\xff\t]*[\x21-\x7e\x80-\xff])?)?$/

const AWKWARD = [
  'alice',
  ' leading',
  'trailing ',
  '  both  ',
  'inner space',
  '100%',
  '%41',
  'a,b',
  'doe, jane',
  'josé',
  '日本',
  '😀',
  'tab\there',
  'line\r\nbreak',
  'nul\u0000byte',
  '"quoted"',
  'https://agent.example/path?x=1&y=%20',
  '',
  ' ',
  ',',
  '%',
]

function identity(overrides: Partial<Identity>): Identity {
  return { ...ANONYMOUS, level: 'authorized', scheme: 'jwt', thumbprint: 'tp', tokenType: 'auth+jwt', ...overrides }
}

describe('identity header values', () => {
  test('identityValue round-trips through decodeURIComponent and is always a valid field value', () => {
    for (const value of AWKWARD) {
      for (const listItem of [false, true]) {
        const encoded = identityValue(value, listItem)
        assert.equal(decodeURIComponent(encoded), value, `${JSON.stringify(value)} (list item: ${listItem})`)
        assert.match(encoded, FIELD_VALUE, JSON.stringify(value))
        if (listItem) assert.ok(!/[, ]/.test(encoded), `a list item never holds a separator: ${JSON.stringify(encoded)}`)
      }
    }
  })

  test('leaves plain values as they are', () => {
    for (const value of ['alice', 'https://agent.example', 'delegate-1@agent.example', 'a+b=c']) assert.equal(identityValue(value), value)
    assert.equal(identityValue('Jane Doe'), 'Jane Doe', 'an inner space survives field parsing outside lists')
    assert.equal(identityValue('Jane Doe', true), 'Jane%20Doe')
  })

  test('round-trips seeded random strings (property)', () => {
    const random = prng(0x1d3a7)
    const alphabet = [' ', '%', ',', 'a', 'Z', '0', '-', '\t', '\r', '\n', '\u0000', '"', '\\', 'é', '€', '😀', '+', ';', '=', '~']
    for (let i = 0; i < 2000; i++) {
      let value = ''
      const n = Math.floor(random() * 8)
      for (let j = 0; j < n; j++) value += alphabet[Math.floor(random() * alphabet.length)]
      const listItem = random() < 0.5
      const encoded = identityValue(value, listItem)
      assert.equal(decodeURIComponent(encoded), value, `case ${i}: ${JSON.stringify(value)}`)
      assert.match(encoded, FIELD_VALUE, `case ${i}: ${JSON.stringify(value)}`)
    }
  })

  test('a lone surrogate becomes U+FFFD instead of throwing', () => {
    assert.equal(decodeURIComponent(identityValue('a\uD800b')), 'a\uFFFDb')
  })
})

describe('setIdentityHeaders', () => {
  test('writes every claim so that decoding each header (and each list item) gives the claim back', () => {
    const id = identity({
      agent: 'https://agent.example',
      agentDelegate: ' delegate, one ',
      user: '  jane %doe, esq  ',
      issuer: 'https://ps.example',
      scope: ['data.read', 'data.write'],
      delegation: [{ sub: 'actor, one' }, { agent: ' two%' }, { sub: '', agent: 'three' }, { other: 1 }],
    })
    const headers: IncomingHttpHeaders = {}
    setIdentityHeaders(headers, id)
    assert.equal(headers['x-aauth-level'], 'authorized')
    assert.equal(decodeURIComponent(String(headers['x-aauth-agent'])), id.agent)
    assert.equal(decodeURIComponent(String(headers['x-aauth-agent-delegate'])), id.agentDelegate)
    assert.equal(decodeURIComponent(String(headers['x-aauth-user'])), id.user)
    assert.equal(decodeURIComponent(String(headers['x-aauth-user-issuer'])), id.issuer)
    assert.deepEqual(String(headers['x-aauth-scope']).split(' ').map(decodeURIComponent), id.scope)
    assert.deepEqual(String(headers['x-aauth-delegation']).split(',').map(decodeURIComponent), ['actor, one', ' two%', 'three', ''])
    for (const [name, value] of Object.entries(headers)) assert.match(String(value), FIELD_VALUE, name)
  })

  test('sets X-AAuth-User-Issuer only with a user, and only the level for an anonymous request', () => {
    const noUser: IncomingHttpHeaders = {}
    setIdentityHeaders(noUser, identity({ level: 'identified', agent: 'https://agent.example', issuer: 'https://agent.example' }))
    assert.equal(noUser['x-aauth-user'], undefined)
    assert.equal(noUser['x-aauth-user-issuer'], undefined)
    const anonymous: IncomingHttpHeaders = {}
    setIdentityHeaders(anonymous, ANONYMOUS)
    assert.deepEqual(anonymous, { 'x-aauth-level': 'none' })
  })
})

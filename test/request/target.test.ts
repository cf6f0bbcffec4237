import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { isAuthority, parseRequestTarget, type RequestTarget } from '../../src/request/target.js'
import { prng } from '../helpers/prng.js'
import { randomTarget } from '../helpers/targets.js'

const refused = (raw: string): boolean => typeof parseRequestTarget(raw) === 'string'

describe('parseRequestTarget: the canonical request target', () => {
  test('keeps an origin-form target byte for byte, split into path and query', () => {
    assert.deepEqual(parseRequestTarget('/a/b%20c;v=1/?q=%2F..&x="[1]"'), { path: '/a/b%20c;v=1/', query: '?q=%2F..&x="[1]"', authority: undefined })
    assert.deepEqual(parseRequestTarget('/'), { path: '/', query: '', authority: undefined })
    assert.deepEqual(parseRequestTarget('/x?'), { path: '/x', query: '?', authority: undefined })
    assert.deepEqual(parseRequestTarget('/caf%C3%A9/%E2%82%AC'), { path: '/caf%C3%A9/%E2%82%AC', query: '', authority: undefined })
  })

  test('converts an absolute-form target to origin-form and keeps its authority', () => {
    assert.deepEqual(parseRequestTarget('http://api.test/public/x'), { path: '/public/x', query: '', authority: 'api.test' })
    assert.deepEqual(parseRequestTarget('HTTPS://api.test:8443?x=1'), { path: '/', query: '?x=1', authority: 'api.test:8443' })
    assert.deepEqual(parseRequestTarget('http://[::1]:8080'), { path: '/', query: '', authority: '[::1]:8080' })
  })

  test('refuses every spelling of a dot segment', () => {
    for (const raw of [
      '/public/../data/x',
      '/public/./data',
      '/./data',
      '/..',
      '/data/..',
      '/public/%2e%2e/data',
      '/public/%2E%2E/data',
      '/public/.%2E/data',
      '/public/%2e./data',
      '/public/%2e/data',
      '/public/..;/data',
      '/public/..;jsessionid=1/data',
      '/public/.;x/data',
      '/public/..%3b/data',
      '/public/..%3Bx=1/data',
    ]) {
      assert.ok(refused(raw), raw)
    }
  })

  test('refuses escaped separators, backslashes, empty segments and fragments', () => {
    for (const raw of ['/public/..%2Fdata', '/a%2fb', '/a%5Cb', '/a%5cb', '/a%00b', '/public\\..\\data', '/a\\b', '//data', '/a//b', '/a#frag', '/a?b#c']) {
      assert.ok(refused(raw), raw)
    }
  })

  test('refuses escaped unreserved characters, which a decoding backend routes differently', () => {
    for (const raw of ['/d%61ta/x', '/%64ata', '/data%2Dx', '/%7Euser', '/a%5Fb', '/a%30', '/%41', '/%5A', '/%7a', '/file%2ejson']) {
      assert.ok(refused(raw), raw)
    }
    // Escapes of reserved or non-ASCII characters stay as they are.
    for (const raw of ['/a%20b', '/a%3Fb', '/a%23b', '/a%25b', '/a%40b', '/%C3%A9', '/a%3Bb', '/a%2Bb', '/%7F', '/%80', '/%5B%5D']) {
      assert.ok(!refused(raw), raw)
    }
  })

  test('refuses malformed escapes and targets that are neither origin- nor absolute-form', () => {
    for (const raw of ['/a%', '/a%2', '/a%zz', '/a%%41', '*', '', 'api.test:443', 'ftp://api.test/x', 'http:/x', 'http:///x', 'http://u@api.test/x', 'http://[::1/x', 'http://a#b/x', 'http://a\\b/x', 'http://a b/x']) {
      assert.ok(refused(raw), JSON.stringify(raw))
    }
  })

  test('lets the query hold any visible ASCII but "#"', () => {
    const query = '?a="b"&c=[1]&d=%&e=+&f==&g=%2e%2e/../\\&h=%00'
    assert.deepEqual(parseRequestTarget('/x' + query), { path: '/x', query, authority: undefined })
    assert.ok(refused('/x?a#b'))
  })

  test('isAuthority accepts host[:port] and IP literals, nothing else', () => {
    for (const ok of ['api.test', 'api.test:8080', '127.0.0.1:1', '[::1]', '[::1]:80', '', 'a-b_c~d', 'xn--caf-dma.example']) assert.ok(isAuthority(ok), ok)
    for (const bad of ['[::1', 'a/b', 'a\\b', 'a b', 'u@h', 'h:p', 'a#b', 'a?b', '::1']) assert.ok(!isAuthority(bad), bad)
  })
})

/**
 * An independent statement of the rule, written from the README's wording rather than from the
 * implementation: decode each escape to a byte and ask what a decoding backend would see.
 */
function referenceDecision(raw: string): RequestTarget | 'refuse' {
  let rest = raw
  let authority: string | undefined
  if (!rest.startsWith('/')) {
    const scheme = rest.slice(0, 8).toLowerCase()
    const prefix = scheme.startsWith('https://') ? 8 : scheme.startsWith('http://') ? 7 : 0
    if (prefix === 0) return 'refuse'
    rest = rest.slice(prefix)
    let end = 0
    while (end < rest.length && rest[end] !== '/' && rest[end] !== '?') end++
    authority = rest.slice(0, end)
    if (authority === '' || !isAuthority(authority)) return 'refuse'
    rest = rest.slice(end)
    if (!rest.startsWith('/')) rest = '/' + rest
  }
  const q = rest.indexOf('?')
  const path = q === -1 ? rest : rest.slice(0, q)
  const query = q === -1 ? '' : rest.slice(q)
  for (const ch of query) {
    const c = ch.charCodeAt(0)
    if (c <= 0x20 || c >= 0x7f || ch === '#') return 'refuse'
  }
  const unreserved = /[A-Za-z0-9\-._~]/
  // Path bytes after decoding, each tagged with whether it was escaped.
  const decoded: { ch: string; escaped: boolean }[] = []
  for (let i = 0; i < path.length; i++) {
    const ch = path[i] as string
    const c = ch.charCodeAt(0)
    if (c <= 0x20 || c >= 0x7f || ch === '#' || ch === '\\') return 'refuse'
    if (ch !== '%') {
      decoded.push({ ch, escaped: false })
      continue
    }
    const hex = path.slice(i + 1, i + 3)
    if (!/^[0-9A-Fa-f]{2}$/.test(hex)) return 'refuse'
    const byte = String.fromCharCode(parseInt(hex, 16))
    if (byte === '/' || byte === '\\' || byte === '\0' || unreserved.test(byte)) return 'refuse'
    decoded.push({ ch: byte, escaped: true })
    i += 2
  }
  // Segments as a backend that decodes, then drops `;params`, sees them.
  const segments: string[][] = [[]]
  for (const d of decoded) {
    if (d.ch === '/' && !d.escaped) segments.push([])
    else (segments.at(-1) as string[]).push(d.ch)
  }
  for (let i = 1; i < segments.length; i++) {
    const segment = (segments[i] as string[]).join('')
    if (segment === '' && i < segments.length - 1) return 'refuse'
    const name = segment.split(';')[0]
    if (name === '.' || name === '..') return 'refuse'
  }
  return { path, query, authority }
}

describe('parseRequestTarget against an independent reference (property, seeded)', () => {
  test('agrees with the reference on 5000 generated targets, and what it accepts is the input unchanged', () => {
    const random = prng(0x7a59e7)
    let accepted = 0
    for (let i = 0; i < 5000; i++) {
      const raw = randomTarget(random)
      const got = parseRequestTarget(raw)
      const want = referenceDecision(raw)
      if (want === 'refuse') {
        assert.equal(typeof got, 'string', `should refuse ${JSON.stringify(raw)} (case ${i})`)
      } else {
        accepted++
        assert.deepEqual(got, want, `should accept ${JSON.stringify(raw)} (case ${i})`)
        const t = got as RequestTarget
        if (t.authority === undefined) {
          assert.equal(t.path + t.query, raw, `nothing is rewritten in ${JSON.stringify(raw)}`)
        } else {
          const after = raw.slice(raw.indexOf('//') + 2 + t.authority.length)
          assert.ok(after === t.path + t.query || (t.path === '/' && after === t.query), `nothing is rewritten in ${JSON.stringify(raw)}`)
        }
      }
    }
    // The generator must exercise both answers, or the property proves nothing.
    assert.ok(accepted > 500 && accepted < 4500, `accepted ${accepted} of 5000`)
  })
})

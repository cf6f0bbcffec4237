import assert from 'node:assert/strict'
import type { IncomingHttpHeaders } from 'node:http'
import { describe, test } from 'node:test'
import { countFieldLines, isIdentityHeaderName, stripHopByHop, stripInbound } from '../../src/request/headers.js'

describe('request header hygiene', () => {
  test('recognises an identity header in any case and with "_" for "-"', () => {
    for (const name of ['x-aauth-agent', 'X-AAuth-Agent', 'X_AAUTH_AGENT', 'x_aauth-level', 'X-aauth_user', 'x-aauth-user-issuer', 'X_AAuth_Anything', 'x-aauth-']) {
      assert.ok(isIdentityHeaderName(name), name)
    }
    for (const name of ['x-aauth', 'x-aauthagent', 'aauth-agent', 'x-forwarded-for', 'xx-aauth-agent', 'x--aauth-agent', 'signature-key']) {
      assert.ok(!isIdentityHeaderName(name), name)
    }
  })

  test('strips every inbound identity header and hop-by-hop header, and nothing else', () => {
    const headers: IncomingHttpHeaders = { 'x-aauth-agent': 'a', x_aauth_level: 'b', 'x-aauth_user': 'c', 'x-aauth-user-issuer': 'd', 'x-forwarded-for': 'e', accept: 'f', te: 'trailers' }
    stripInbound(headers)
    assert.deepEqual(headers, { 'x-forwarded-for': 'e', accept: 'f' })
  })

  test('strips hop-by-hop fields, Proxy-* and every field Connection names, in any case and list form', () => {
    const headers: IncomingHttpHeaders = {
      connection: 'close, X-Secret,, x-other ',
      'x-secret': '1',
      'x-other': '2',
      'keep-alive': 'timeout=5',
      te: 'trailers',
      trailer: 'x',
      'transfer-encoding': 'chunked',
      upgrade: 'h2c',
      'http2-settings': 'AAA',
      'proxy-authorization': 'Basic x',
      'proxy-connection': 'keep-alive',
      'proxy-anything': 'y',
      'content-type': 'text/plain',
      authorization: 'Bearer t',
    }
    stripHopByHop(headers)
    assert.deepEqual(headers, { 'content-type': 'text/plain', authorization: 'Bearer t' })
  })

  test('reads Connection options from every line of a repeated Connection field', () => {
    const headers = { connection: ['keep-alive', 'X-Internal'], 'x-internal': '1', 'x-kept': '2' } as unknown as IncomingHttpHeaders
    stripHopByHop(headers)
    assert.deepEqual(headers, { 'x-kept': '2' })
  })

  test('counts field lines by name, whatever their case', () => {
    const raw = ['Host', 'a', 'X-A', '1', 'host', 'b', 'HOST', 'c']
    assert.equal(countFieldLines(raw, 'host'), 3)
    assert.equal(countFieldLines(raw, 'x-a'), 1)
    assert.equal(countFieldLines(raw, 'x-b'), 0)
  })
})

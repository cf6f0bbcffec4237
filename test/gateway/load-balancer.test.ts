import assert from 'node:assert/strict'
import { connect } from 'node:net'
import { after, before, describe, test } from 'node:test'
import { startBackend, type Backend } from '../../src/devkit/backend.js'
import { send, startTestGateway, type TestGateway } from '../helpers/gateway.js'

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/

/** Headers a client (or a load balancer) claims: believed only from a peer in `trust.proxies`. */
const CLAIMED = {
  'x-request-id': 'lb-7f3a9c',
  'x-forwarded-for': '203.0.113.7',
  'x-forwarded-proto': 'https',
  'x-forwarded-host': 'public.example',
}

describe('behind a load balancer: request id, X-Forwarded-*, trace context', () => {
  let backend: Backend
  /** Loopback (where the tests connect from) is not listed: every peer is untrusted. */
  let direct: TestGateway
  /** Loopback listed in `trust.proxies`, as a load balancer's address would be. */
  let behindLb: TestGateway

  before(async () => {
    backend = await startBackend()
    const routes = [
      { name: 'open', match: { path_prefix: '/open' }, upstream: backend.url, access: 'open' },
      { name: 'signed', match: { path_prefix: '/signed' }, upstream: backend.url, access: 'pseudonymous' },
    ]
    direct = await startTestGateway({ trust: { proxies: ['10.0.0.0/8', 'fd00::/8'] }, routes })
    behindLb = await startTestGateway({ trust: { proxies: ['192.0.2.1', '127.0.0.0/8', '::1/128'] }, routes })
  })
  after(async () => {
    await direct.close()
    await behindLb.close()
    await backend.close()
  })

  test('a request id is generated, sent upstream, returned and logged', async () => {
    const res = await send(direct, '/open/a')
    const id = res.headers.get('x-request-id')
    assert.match(String(id), UUID)
    assert.equal(backend.last().headers['x-request-id'], id)
    assert.equal(direct.decisions.at(-1)?.request_id, id)
  })

  test('from a peer not in trust.proxies, X-Request-Id and X-Forwarded-* are replaced', async () => {
    const res = await send(direct, '/open/b', { headers: CLAIMED })
    const got = backend.last().headers
    const id = res.headers.get('x-request-id')
    assert.match(String(id), UUID, 'the client does not choose the id')
    assert.equal(got['x-request-id'], id)
    assert.equal(got['x-forwarded-for'], '127.0.0.1', 'the peer alone, nothing appended to a forged chain')
    assert.equal(got['x-forwarded-proto'], 'http', 'from the listener')
    assert.equal(got['x-forwarded-host'], got.host, 'the routed host of an unsigned request')
  })

  test('from a peer in trust.proxies, X-Request-Id is kept and X-Forwarded-* extended or kept', async () => {
    const res = await send(behindLb, '/open/c', { headers: CLAIMED })
    const got = backend.last().headers
    assert.equal(res.headers.get('x-request-id'), 'lb-7f3a9c')
    assert.equal(got['x-request-id'], 'lb-7f3a9c')
    assert.equal(behindLb.decisions.at(-1)?.request_id, 'lb-7f3a9c')
    assert.equal(got['x-forwarded-for'], '203.0.113.7, 127.0.0.1')
    assert.equal(got['x-forwarded-proto'], 'https')
    assert.equal(got['x-forwarded-host'], 'public.example')
  })

  test('a trusted peer without those headers gets them set as from anyone', async () => {
    const res = await send(behindLb, '/open/d')
    const got = backend.last().headers
    assert.match(String(res.headers.get('x-request-id')), UUID)
    assert.equal(got['x-forwarded-for'], '127.0.0.1')
    assert.equal(got['x-forwarded-proto'], 'http')
  })

  test('an unusable inbound id from a trusted peer is replaced', async () => {
    const res = await send(behindLb, '/open/e', { headers: { 'x-request-id': 'has spaces in it' } })
    assert.match(String(res.headers.get('x-request-id')), UUID)
  })

  test('local answers carry the request id too: a 401 challenge, a 404, a parser refusal', async () => {
    for (const target of ['/signed/x', '/nowhere']) {
      const res = await send(direct, target)
      assert.ok(res.status === 401 || res.status === 404)
      const id = res.headers.get('x-request-id')
      assert.match(String(id), UUID, target)
      assert.equal(direct.decisions.at(-1)?.request_id, id)
    }
    const raw = await new Promise<string>((resolve, reject) => {
      const socket = connect(Number(new URL(direct.url).port), '127.0.0.1')
      let text = ''
      socket.on('data', (c: Buffer) => (text += c.toString()))
      socket.on('end', () => resolve(text))
      socket.on('error', reject)
      socket.write('GET /open HTTP/1.1\r\nHost: a\r\nBad Header\r\n\r\n')
    })
    assert.match(raw, /^HTTP\/1\.1 400 /)
    const id = /\r\nx-request-id: (\S+)\r\n/.exec(raw)?.[1]
    assert.match(String(id), UUID)
    assert.equal(direct.decisions.at(-1)?.request_id, id)
  })

  test('W3C trace context reaches the upstream unchanged', async () => {
    const traceparent = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01'
    const tracestate = 'congo=t61rcWkgMzE,rojo=00f067aa0ba902b7'
    await send(direct, '/open/trace', { headers: { traceparent, tracestate } })
    assert.equal(backend.last().headers.traceparent, traceparent)
    assert.equal(backend.last().headers.tracestate, tracestate)
  })
})

import assert from 'node:assert/strict'
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { Socket } from 'node:net'
import { after, before, beforeEach, describe, test } from 'node:test'
import { signRequest } from '../../../src/devkit/sign.js'
import { startBackend, type Backend } from '../../../src/devkit/backend.js'
import { AUTHORITY, startTestGateway, type TestGateway } from '../../helpers/gateway.js'
import { requestCount } from '../../helpers/metrics.js'
import { fieldLines, RawConnection, rawMessage } from '../../helpers/raw-http.js'
import { newKey } from '../../../src/devkit/keys.js'
import { since, waitFor } from '../../helpers/wait.js'

/**
 * Bodies and time: a client or an upstream that stalls or breaks off never holds a request (or
 * a connection) open past its timeout, what was cut is never completed upstream, and each such
 * request is still one decision line and one sample. Routes here have `timeout: 1` and the
 * listener `limits.header_timeout: 1`.
 */

/**
 * Timing bounds for a 1 s timeout: never before it (so it is that timeout that fired), and
 * within 1-2 s plus one second of slack for a loaded test machine (these suites share CPUs).
 */
const EARLIEST_MS = 900
const LATEST_MS = 3000

/** Upstream connections held by `/reset`, for the test to reset once the client saw the partial body. */
const held: Socket[] = []

/** Upstream behaviours by path: reset or stall after the headers and part of the body. */
function upstream(req: IncomingMessage, res: ServerResponse): void {
  if (req.url === '/reset') {
    res.writeHead(200, { 'content-type': 'text/plain', 'content-length': '1000' })
    res.write('partial body')
    held.push(req.socket)
    return
  }
  if (req.url === '/stall') {
    res.writeHead(200, { 'content-type': 'text/plain', 'content-length': '1000' })
    res.write('partial body')
    return
  }
  req.resume()
  req.on('end', () => res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}'))
}

describe('stalls and breaks in either direction end on time and are recorded', () => {
  let backend: Backend
  let gw: TestGateway
  const key = newKey('Ed25519')

  before(async () => {
    backend = await startBackend({ handler: upstream })
    gw = await startTestGateway({
      resource: { issuer: 'https://api.test', authority: AUTHORITY },
      signatures: { schemes: ['hwk'] },
      limits: { header_timeout: 1 },
      routes: [
        { name: 'digest', match: { path_prefix: '/digest' }, upstream: backend.url, access: 'open', components: ['content-digest'], timeout: 1 },
        { name: 'all', match: { path_prefix: '/' }, upstream: backend.url, access: 'open', timeout: 1 },
      ],
    })
  })
  after(async () => {
    await gw.close()
    await backend.close()
  })
  beforeEach(() => backend.reset())

  test('a digest-checked upload that stalls halfway gets 408 problem+json within about the route timeout, and nothing is forwarded', async () => {
    const body = 'x'.repeat(200)
    const signed = signRequest({ method: 'POST', authority: AUTHORITY, target: '/digest/up', body }, key, { signatureKey: key.hwk })
    const conn = await RawConnection.open(gw.url)
    const before = gw.decisions.length
    const start = performance.now()
    conn.write(rawMessage('POST', '/digest/up', [...fieldLines(signed), `Content-Length: ${body.length}`], body.slice(0, 100)))
    const res = await conn.response({ timeoutMs: 4000 })
    const elapsed = since(start)
    assert.equal(res.status, 408, res.text)
    assert.equal(res.header('content-type'), 'application/problem+json')
    assert.equal(res.json().error, 'request_timeout')
    assert.ok(elapsed >= EARLIEST_MS && elapsed < LATEST_MS, `answered after ${Math.round(elapsed)} ms`)
    await conn.waitClosed()
    assert.deepEqual(backend.arrived, [], 'the backend received nothing')
    await waitFor(() => gw.decisions.length > before, 'a decision line')
    assert.equal(gw.decisions.at(-1)?.status, 408)
    assert.equal(gw.decisions.at(-1)?.reason, 'body_timeout')
  })

  test('a streamed upload that stalls is cut within about the route timeout, answered 408, and aborted upstream', async () => {
    const conn = await RawConnection.open(gw.url)
    const before = gw.decisions.length
    const counted = await requestCount(gw, { reason: 'body_timeout' })
    const start = performance.now()
    conn.write(rawMessage('POST', '/stream/up', ['Content-Length: 200'], 'y'.repeat(100)))
    const res = await conn.response({ timeoutMs: 4000 })
    const elapsed = since(start)
    assert.equal(res.status, 408, res.text)
    assert.equal(res.json().error, 'request_timeout')
    assert.ok(elapsed >= EARLIEST_MS && elapsed < LATEST_MS, `answered after ${Math.round(elapsed)} ms`)
    await conn.waitClosed()
    await waitFor(() => backend.aborted.length === 1, 'the upstream request to be aborted')
    assert.deepEqual(backend.received, [], 'the backend never got a complete request')
    await waitFor(() => gw.decisions.length > before, 'a decision line')
    assert.equal(gw.decisions.length, before + 1)
    assert.equal(gw.decisions.at(-1)?.status, 408)
    assert.equal(gw.decisions.at(-1)?.reason, 'body_timeout')
    assert.equal(await requestCount(gw, { reason: 'body_timeout' }), counted + 1)
  })

  test('a client sending its headers too slowly gets 408 within 1-2 s of limits.header_timeout: 1', async () => {
    const conn = await RawConnection.open(gw.url)
    const before = gw.decisions.length
    const counted = await requestCount(gw, { reason: 'header_timeout' })
    const start = performance.now()
    conn.write('GET /slow-headers HTTP/1.1\r\nHost: api.test\r\n')
    const drip = setInterval(() => {
      if (!conn.closed) conn.write('X-Drip: 1\r\n')
    }, 200)
    try {
      const res = await conn.response({ timeoutMs: 4000 })
      const elapsed = since(start)
      assert.equal(res.status, 408)
      assert.equal(res.header('content-type'), 'application/problem+json')
      assert.ok(elapsed >= EARLIEST_MS && elapsed < LATEST_MS, `answered after ${Math.round(elapsed)} ms`)
      await conn.waitClosed()
    } finally {
      clearInterval(drip)
      conn.destroy()
    }
    assert.deepEqual(backend.arrived, [])
    await waitFor(() => gw.decisions.length > before, 'a decision line')
    assert.equal(gw.decisions.at(-1)?.status, 408)
    assert.equal(gw.decisions.at(-1)?.reason, 'header_timeout')
    assert.equal(await requestCount(gw, { reason: 'header_timeout' }), counted + 1)
  })

  test('a connection that never sends a byte is closed at the header timeout, without an answer or a line', async () => {
    const before = gw.decisions.length
    const counted = await requestCount(gw)
    const conn = await RawConnection.open(gw.url)
    const start = performance.now()
    await conn.waitClosed(4000)
    assert.ok(since(start) < LATEST_MS, `closed after ${Math.round(since(start))} ms`)
    assert.equal(conn.unread().length, 0, 'nothing was written to a connection that asked nothing')
    assert.equal(gw.decisions.length, before, 'no request, so no decision line')
    assert.equal(await requestCount(gw), counted)
  })

  test('an upstream reset after the headers and part of the body ends the client connection, recorded as upstream_reset', async () => {
    const conn = await RawConnection.open(gw.url)
    const before = gw.decisions.length
    const counted = await requestCount(gw, { reason: 'upstream_reset' })
    conn.write(rawMessage('GET', '/reset'))
    await conn.waitForText('partial body')
    assert.equal(held.length, 1)
    held.pop()?.resetAndDestroy()
    await conn.waitClosed(4000)
    const received = conn.unread().toString('latin1')
    assert.match(received, /^HTTP\/1\.1 200 /, 'the headers were relayed')
    assert.ok(received.length < received.indexOf('\r\n\r\n') + 4 + 1000, 'the body was not completed')
    await waitFor(() => gw.decisions.length > before, 'a decision line')
    assert.equal(gw.decisions.length, before + 1)
    assert.equal(gw.decisions.at(-1)?.reason, 'upstream_reset')
    assert.equal(gw.decisions.at(-1)?.status, 200)
    assert.equal(await requestCount(gw, { reason: 'upstream_reset' }), counted + 1)
  })

  test('an upstream that stalls after the headers has the client connection ended after the route timeout, recorded', async () => {
    const conn = await RawConnection.open(gw.url)
    const before = gw.decisions.length
    const start = performance.now()
    conn.write(rawMessage('GET', '/stall'))
    await conn.waitClosed(4000)
    const elapsed = since(start)
    assert.ok(elapsed >= EARLIEST_MS && elapsed < LATEST_MS, `closed after ${Math.round(elapsed)} ms`)
    assert.match(conn.unread().toString('latin1'), /^HTTP\/1\.1 200 [\s\S]*partial body$/)
    await waitFor(() => gw.decisions.length > before, 'a decision line')
    assert.equal(gw.decisions.length, before + 1)
    assert.equal(gw.decisions.at(-1)?.path, '/stall')
    assert.equal(gw.decisions.at(-1)?.decision, 'error')
    assert.equal(gw.decisions.at(-1)?.reason, 'upstream_reset')
  })
})

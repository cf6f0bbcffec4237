import assert from 'node:assert/strict'
import { after, before, beforeEach, describe, test } from 'node:test'
import { startBackend, type Backend } from '../../../src/devkit/backend.js'
import { startTestGateway, type TestGateway } from '../../helpers/gateway.js'
import { requestCount } from '../../helpers/metrics.js'
import { chunked, RawConnection, rawMessage, rawRequest } from '../../helpers/raw-http.js'
import { waitFor } from '../../helpers/wait.js'

/**
 * Message framing (RFC 9112 §6): the backend reads exactly one request per client request, its
 * body as a body, whatever the method and however the body was framed, and requests the
 * gateway could frame differently from a backend are refused before anything is forwarded.
 */

/** A body that is itself a request with forged identity headers: smuggled if ever read as one. */
const smuggled = (path: string): string =>
  `GET ${path} HTTP/1.1\r\nHost: api.test\r\nX-AAuth-Agent: https://forged.example\r\nX-AAuth-Level: authorized\r\nContent-Length: 0\r\n\r\n`

const pause = (): Promise<void> => new Promise((r) => setImmediate(r))

describe('message framing through the gateway (raw sockets, keep-alive upstream)', () => {
  let backend: Backend
  let gw: TestGateway

  before(async () => {
    backend = await startBackend()
    gw = await startTestGateway({
      routes: [{ name: 'all', match: { path_prefix: '/' }, upstream: backend.url, access: 'open' }],
    })
  })
  after(async () => {
    await gw.close()
    await backend.close()
  })
  beforeEach(() => backend.reset())

  test('forwards a chunked body on every method as that request\'s body, over one client connection', async () => {
    const conn = await RawConnection.open(gw.url)
    try {
      for (const method of ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']) {
        const body = `${method} body ` + smuggled(`/smuggled-${method}`)
        conn.write(rawMessage(method, `/m/${method}`, ['Transfer-Encoding: chunked']))
        // The body in several writes, so it streams rather than arriving with the headers.
        for (const piece of chunked(body, 3).match(/[\s\S]{1,40}/g) ?? []) {
          conn.write(piece)
          await pause()
        }
        const res = await conn.response({ head: method === 'HEAD' })
        assert.equal(res.status, 200, `${method}: ${res.text}`)
        await waitFor(() => backend.received.length > 0, `the backend to receive the ${method}`)
        const got = backend.received
        assert.equal(got.length, 1, `${method}: exactly one request reached the backend`)
        assert.equal(got[0]?.method, method)
        assert.equal(got[0]?.url, `/m/${method}`)
        assert.equal(got[0]?.body.toString('latin1'), body, `${method}: the body arrives as a body, byte for byte`)
        assert.equal(got[0]?.headers['x-aauth-agent'], undefined)
        assert.equal(got[0]?.headers['transfer-encoding'] !== undefined || got[0]?.headers['content-length'] === String(body.length), true, `${method}: the body is framed`)
        backend.reset()
      }
      assert.ok(!conn.closed, 'the client connection stayed open throughout')
    } finally {
      conn.destroy()
    }
    assert.ok(!backend.raw().includes('GET /smuggled'), 'no body was ever parsed as a request')
  })

  test('two interleaved keep-alive clients each get their own answers, and bodies stay bodies', async () => {
    const a = await RawConnection.open(gw.url)
    const b = await RawConnection.open(gw.url)
    try {
      const bodyA = smuggled('/admin-a')
      const bodyB = smuggled('/admin-b')
      const piecesA = chunked(bodyA, 4).match(/[\s\S]{1,25}/g) ?? []
      const piecesB = chunked(bodyB, 4).match(/[\s\S]{1,25}/g) ?? []
      a.write(rawMessage('DELETE', '/client-a', ['Transfer-Encoding: chunked']))
      b.write(rawMessage('OPTIONS', '/client-b', ['Transfer-Encoding: chunked']))
      for (let i = 0; i < Math.max(piecesA.length, piecesB.length); i++) {
        if (piecesA[i] !== undefined) a.write(piecesA[i] as string)
        await pause()
        if (piecesB[i] !== undefined) b.write(piecesB[i] as string)
        await pause()
      }
      const [resA, resB] = await Promise.all([a.response(), b.response()])
      assert.equal(resA.json().url, '/client-a')
      assert.equal(resB.json().url, '/client-b')
      // Each connection is still framed right: a second request on each gets its own answer.
      b.write(rawMessage('GET', '/client-b/2'))
      a.write(rawMessage('GET', '/client-a/2'))
      const [againA, againB] = await Promise.all([a.response(), b.response()])
      assert.equal(againA.json().url, '/client-a/2')
      assert.equal(againB.json().url, '/client-b/2')
      assert.equal(a.unread().length, 0, 'client A received nothing more')
      assert.equal(b.unread().length, 0, 'client B received nothing more')
      await waitFor(() => backend.received.length >= 4, 'four requests at the backend')
      const seen = backend.received.map((r) => `${r.method} ${r.url}`).sort()
      assert.deepEqual(seen, ['DELETE /client-a', 'GET /client-a/2', 'GET /client-b/2', 'OPTIONS /client-b'])
      assert.equal(backend.received.find((r) => r.url === '/client-a')?.body.toString(), bodyA)
      assert.equal(backend.received.find((r) => r.url === '/client-b')?.body.toString(), bodyB)
      assert.ok(backend.received.every((r) => r.headers['x-aauth-level'] === 'none'), 'no forged level reached the backend')
    } finally {
      a.destroy()
      b.destroy()
    }
  })

  test('pipelined requests on one connection are each forwarded once and answered in order', async () => {
    const conn = await RawConnection.open(gw.url)
    try {
      conn.write(
        rawMessage('GET', '/p/1') +
          rawMessage('POST', '/p/2', ['Content-Length: 5'], 'hello') +
          rawMessage('PUT', '/p/3', ['Transfer-Encoding: chunked'], chunked(smuggled('/p/smuggled'), 2)) +
          rawMessage('GET', '/p/4'),
      )
      for (const n of [1, 2, 3, 4]) assert.equal((await conn.response()).json().url, `/p/${n}`)
    } finally {
      conn.destroy()
    }
    await waitFor(() => backend.received.length >= 4, 'four requests at the backend')
    assert.deepEqual(backend.received.map((r) => `${r.method} ${r.url} ${r.body.length}`).sort(), [
      'GET /p/1 0',
      'GET /p/4 0',
      'POST /p/2 5',
      `PUT /p/3 ${smuggled('/p/smuggled').length}`,
    ])
  })

  test('pipelined requests behind one whose answer closes the connection are each one decision line', async () => {
    const before = gw.decisions.length
    const conn = await RawConnection.open(gw.url)
    try {
      conn.write(rawMessage('GET', '/q/1') + rawMessage('GET', '/q/../2') + rawMessage('GET', '/q/3') + rawMessage('GET', '/q/4'))
      assert.equal((await conn.response()).json().url, '/q/1')
      assert.equal((await conn.response()).status, 400)
      await conn.waitClosed()
      assert.equal(conn.unread().length, 0, 'nothing after the answer that closed the connection')
    } finally {
      conn.destroy()
    }
    // /q/3 and /q/4 may have gone upstream before the connection closed; whatever became of
    // them, each is accounted for once and none is left hanging.
    await waitFor(() => gw.decisions.length >= before + 4, 'a decision line for each of the four requests')
    const lines = gw.decisions.slice(before)
    assert.deepEqual(lines.map((l) => l.path).sort(), ['/q/../2', '/q/1', '/q/3', '/q/4'])
    for (const line of lines.filter((l) => l.path === '/q/3' || l.path === '/q/4')) assert.equal(line.reason, 'client_closed')
  })

  test('the unread body of a refused request is never read as the next request on the connection', async () => {
    for (const framing of [['Content-Length'], ['Transfer-Encoding']]) {
      const body = smuggled('/open/after-refusal')
      const fields = framing[0] === 'Content-Length' ? [`Content-Length: ${body.length}`] : ['Transfer-Encoding: chunked']
      const conn = await RawConnection.open(gw.url)
      try {
        // A 400 (dot segment) before any body is read; the body is sent behind the headers.
        conn.write(rawMessage('POST', '/a/../b', fields))
        const res = await conn.response()
        assert.equal(res.status, 400)
        conn.write(framing[0] === 'Content-Length' ? body : chunked(body))
        await conn.waitClosed()
        assert.equal(conn.unread().length, 0, `${framing[0]}: no second response`)
      } finally {
        conn.destroy()
      }
    }
    assert.deepEqual(backend.arrived, [])
  })

  test('refuses framing a backend could read differently with 400, and forwards nothing', async () => {
    const cases: [string, string][] = [
      ['Content-Length with Transfer-Encoding', rawMessage('POST', '/f', ['Content-Length: 5', 'Transfer-Encoding: chunked', 'Connection: close'], chunked('hello'))],
      ['two different Content-Lengths', rawMessage('POST', '/f', ['Content-Length: 5', 'Content-Length: 6', 'Connection: close'], 'hello!')],
      ['Transfer-Encoding: gzip, chunked', rawMessage('POST', '/f', ['Transfer-Encoding: gzip, chunked', 'Connection: close'], chunked('hello'))],
      ['Transfer-Encoding: chunked, identity', rawMessage('POST', '/f', ['Transfer-Encoding: chunked, identity', 'Connection: close'], chunked('hello'))],
      ['Transfer-Encoding twice', rawMessage('POST', '/f', ['Transfer-Encoding: chunked', 'Transfer-Encoding: chunked', 'Connection: close'], chunked('hello'))],
      ['two Host headers', rawMessage('GET', '/f', ['Host: other.test', 'Connection: close'])],
      ['no Host on HTTP/1.1', rawMessage('GET', '/f', ['Connection: close'], '', null)],
      ['a Host that is not host[:port]', rawMessage('GET', '/f', ['Connection: close'], '', '[::1')],
      ['a Host with a path', rawMessage('GET', '/f', ['Connection: close'], '', 'api.test/x')],
    ]
    for (const [what, bytes] of cases) {
      const before = gw.decisions.length
      const res = await rawRequest(gw.url, bytes)
      assert.equal(res.status, 400, `${what}: ${res.text}`)
      assert.equal(res.json().error, 'invalid_request', what)
      await waitFor(() => gw.decisions.length > before, `a decision line for ${what}`)
      assert.equal(gw.decisions.at(-1)?.status, 400, what)
    }
    assert.deepEqual(backend.arrived, [], 'nothing was forwarded')
  })

  test('a body cut short by the client (declared length not sent, then FIN) forwards nothing more and is one line', async () => {
    const before = gw.decisions.length
    const conn = await RawConnection.open(gw.url)
    conn.write(rawMessage('POST', '/short', ['Content-Length: 100'], 'hello'))
    await waitFor(() => backend.arrived.length === 1, 'the request to start upstream')
    conn.end()
    await waitFor(() => backend.aborted.length === 1, 'the upstream request to be aborted')
    conn.destroy()
    assert.deepEqual(backend.received, [], 'no request completed at the backend')
    const raw = backend.raw()
    assert.equal(raw.slice(raw.indexOf('\r\n\r\n') + 4), 'hello', 'the backend got the bytes sent and nothing else')
    await waitFor(() => gw.decisions.length > before, 'a decision line')
    // Give a second line time to appear if one were going to.
    await new Promise((r) => setTimeout(r, 100))
    assert.equal(gw.decisions.length, before + 1, `one line: ${JSON.stringify(gw.decisions.slice(before))}`)
    assert.equal(gw.decisions.at(-1)?.path, '/short')
    assert.equal(gw.decisions.at(-1)?.reason, 'bad_request')
  })

  test('a malformed chunk in a forwarded body aborts the upstream request and is one decision line', async () => {
    const before = gw.decisions.length
    const counted = await requestCount(gw)
    const conn = await RawConnection.open(gw.url)
    conn.write(rawMessage('POST', '/bad-chunk', ['Transfer-Encoding: chunked'], '5\r\nhello\r\n'))
    await waitFor(() => backend.arrived.length === 1, 'the request to start upstream')
    conn.write('zz\r\nnot a chunk\r\n')
    const res = await conn.response()
    assert.equal(res.status, 400, 'nothing was answered yet, so the client learns why')
    await conn.waitClosed()
    await waitFor(() => backend.aborted.length === 1, 'the upstream request to be aborted')
    assert.deepEqual(backend.received, [])
    await waitFor(() => gw.decisions.length > before, 'a decision line')
    await new Promise((r) => setTimeout(r, 100))
    assert.equal(gw.decisions.length, before + 1, `one line: ${JSON.stringify(gw.decisions.slice(before))}`)
    assert.equal(gw.decisions.at(-1)?.path, '/bad-chunk', 'the line is the request\'s own, with its route and path')
    assert.equal(gw.decisions.at(-1)?.route, 'all')
    assert.equal(gw.decisions.at(-1)?.status, 400)
    assert.equal(gw.decisions.at(-1)?.reason, 'bad_request')
    assert.equal(await requestCount(gw), counted + 1)
  })
})

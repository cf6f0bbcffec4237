import assert from 'node:assert/strict'
import type { IncomingMessage, ServerResponse } from 'node:http'
import { after, before, beforeEach, describe, test } from 'node:test'
import { signRequest } from '../../../src/devkit/sign.js'
import { startAgentServer, type AgentServer } from '../../../src/devkit/agent-server.js'
import { startBackend, type Backend } from '../../../src/devkit/backend.js'
import { AUTHORITY, startTestGateway, type TestGateway } from '../../helpers/gateway.js'
import { requestCount } from '../../helpers/metrics.js'
import { fieldLines, RawConnection, rawMessage } from '../../helpers/raw-http.js'
import { newKey } from '../../../src/devkit/keys.js'
import { waitFor } from '../../helpers/wait.js'

/**
 * WebSocket handshakes go through the same pipeline as any request: the backend's `upgrade`
 * handler (node:http) sees the verified identity and no forged one, the client gets the 101
 * and bytes flow both ways; a handshake the route does not admit gets its answer (never
 * silence); each is one decision line and one sample.
 */

const WS_KEY = 'dGhlIHNhbXBsZSBub25jZQ=='
/** The accept value RFC 6455 §1.3 gives for WS_KEY. */
const WS_ACCEPT = 's3pPLMBiTxaQ9kYGzzhZRbK+xOo='

function handshake(target: string, fields: string[] = []): string {
  return rawMessage('GET', target, ['Connection: Upgrade', 'Upgrade: websocket', 'Sec-WebSocket-Version: 13', `Sec-WebSocket-Key: ${WS_KEY}`, ...fields])
}

/**
 * The backend with no `upgrade` handler answers handshakes as plain requests: JSON, or for
 * /plain/reset the headers and part of the body, then it closes the connection.
 */
function declining(req: IncomingMessage, res: ServerResponse): void {
  req.resume()
  if (req.url === '/plain/reset') {
    res.writeHead(200, { 'content-type': 'text/plain', 'content-length': '1000' })
    res.write('partial', () => req.socket.destroy())
    return
  }
  req.on('end', () => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ ok: true, url: req.url })))
}

const FORGED = ['X-AAuth-Agent: https://forged.example', 'X_AAUTH_LEVEL: authorized', 'x-aauth_user: forged']

describe('WebSocket upgrades through the pipeline (raw sockets)', () => {
  let agent: AgentServer
  let backend: Backend
  /** A backend with no `upgrade` handler: it answers handshakes as plain requests. */
  let plain: Backend
  let gw: TestGateway
  const key = newKey('Ed25519')
  let agentToken: string

  before(async () => {
    agent = await startAgentServer()
    backend = await startBackend({ websocket: true })
    plain = await startBackend({ handler: declining })
    agentToken = await agent.agentToken(key.publicJwk, { sub: 'delegate-ws' })
    gw = await startTestGateway({
      resource: { issuer: 'https://api.test', authority: AUTHORITY },
      trust: { agent_providers: [agent.origin], insecure_issuers: [agent.origin] },
      signatures: { schemes: ['hwk', 'jwt'] },
      routes: [
        { name: 'identified', match: { path_prefix: '/id' }, upstream: backend.url, access: 'identified' },
        { name: 'pseudonymous', match: { path_prefix: '/ps' }, upstream: backend.url, access: 'pseudonymous' },
        { name: 'plain', match: { path_prefix: '/plain' }, upstream: plain.url, access: 'open' },
        { name: 'open', match: { path_prefix: '/' }, upstream: backend.url, access: 'open' },
      ],
    })
  })
  after(async () => {
    await gw.close()
    await backend.close()
    await plain.close()
    await agent.close()
  })
  beforeEach(() => backend.reset())

  const signed = (target: string, signatureKey: string) => fieldLines(signRequest({ method: 'GET', authority: AUTHORITY, target }, key, { signatureKey }))

  /** Completes a handshake on `conn` and checks bytes flow both ways. */
  async function expectTunnel(conn: RawConnection): Promise<void> {
    const res = await conn.response()
    assert.equal(res.status, 101, res.text)
    assert.equal(res.header('sec-websocket-accept'), WS_ACCEPT)
    assert.equal(res.header('upgrade')?.toLowerCase(), 'websocket')
    assert.equal((await conn.take('hello from backend'.length)).toString(), 'hello from backend')
    conn.write('ping')
    assert.equal((await conn.take('echo:ping'.length)).toString(), 'echo:ping')
  }

  test('a signed handshake on an identified route reaches the backend with the verified identity and no forged one', async () => {
    const before = gw.decisions.length
    const counted = await requestCount(gw, { route: 'identified', decision: 'allow' })
    const conn = await RawConnection.open(gw.url)
    try {
      conn.write(handshake('/id/socket', [...signed('/id/socket', `jwt;jwt="${agentToken}"`), ...FORGED]))
      await expectTunnel(conn)
    } finally {
      conn.destroy()
    }
    const up = backend.upgrades[0]
    assert.equal(backend.upgrades.length, 1)
    assert.equal(up?.url, '/id/socket')
    assert.equal(up?.headers['x-aauth-level'], 'identified')
    assert.equal(up?.headers['x-aauth-agent'], agent.origin)
    assert.equal(up?.headers['x-aauth-agent-delegate'], 'delegate-ws')
    assert.deepEqual(up?.rawHeaders.filter((_, i) => i % 2 === 0).filter((n) => /_/.test(n) && /aauth/i.test(n)), [], 'no "_" spelling reached the backend')
    assert.equal(up?.headers['x-aauth-user'], undefined)
    assert.equal(Buffer.concat(up?.data ?? []).toString(), 'ping')
    await waitFor(() => gw.decisions.length > before, 'a decision line')
    const line = gw.decisions.at(-1)
    assert.equal(line?.status, 101)
    assert.equal(line?.route, 'identified')
    assert.equal(line?.decision, 'allow')
    assert.equal(line?.aauth_level, 'identified')
    assert.equal(await requestCount(gw, { route: 'identified', decision: 'allow' }), counted + 1)
  })

  test('a handshake signed with hwk on a pseudonymous route works, with bytes sent alongside the handshake relayed', async () => {
    const conn = await RawConnection.open(gw.url)
    try {
      // Bytes right behind the handshake arrive at the gateway with it (the upgrade's `head`).
      conn.write(handshake('/ps/socket', [...signed('/ps/socket', key.hwk), ...FORGED]) + 'early')
      const res = await conn.response()
      assert.equal(res.status, 101)
      await waitFor(() => Buffer.concat(backend.upgrades[0]?.data ?? []).toString() === 'early', 'the early bytes at the backend')
    } finally {
      conn.destroy()
    }
    assert.equal(backend.upgrades[0]?.headers['x-aauth-level'], 'pseudonymous')
    assert.equal(backend.upgrades[0]?.headers['x-aauth-agent'], undefined)
  })

  test('an unsigned handshake on a signed route gets the 401 challenge, not silence, and reaches nothing', async () => {
    const before = gw.decisions.length
    const conn = await RawConnection.open(gw.url)
    try {
      conn.write(handshake('/id/socket', FORGED))
      const res = await conn.response()
      assert.equal(res.status, 401)
      assert.equal(res.header('aauth-requirement'), 'requirement=agent-token')
      assert.equal(res.header('content-type'), 'application/problem+json')
      assert.equal(res.json().error, 'agent-token')
      await conn.waitClosed()
    } finally {
      conn.destroy()
    }
    assert.deepEqual(backend.upgrades, [])
    assert.deepEqual(backend.arrived, [])
    await waitFor(() => gw.decisions.length > before, 'a decision line')
    assert.equal(gw.decisions.at(-1)?.status, 401)
    assert.equal(gw.decisions.at(-1)?.decision, 'challenge')
  })

  test('an unsigned handshake on an open route works, with level none', async () => {
    const before = gw.decisions.length
    const conn = await RawConnection.open(gw.url)
    try {
      conn.write(handshake('/open/socket', FORGED))
      await expectTunnel(conn)
    } finally {
      conn.destroy()
    }
    assert.equal(backend.upgrades[0]?.headers['x-aauth-level'], 'none')
    assert.equal(backend.upgrades[0]?.headers['x-aauth-agent'], undefined)
    await waitFor(() => gw.decisions.length > before, 'a decision line')
    assert.equal(gw.decisions.at(-1)?.status, 101)
    assert.equal(gw.decisions.at(-1)?.route, 'open')
  })

  test('a backend that declines the upgrade: its answer is relayed, the connection closed, and it is one line', async () => {
    const before = gw.decisions.length
    const conn = await RawConnection.open(gw.url)
    try {
      conn.write(handshake('/plain/socket', FORGED))
      const res = await conn.response()
      assert.equal(res.status, 200)
      assert.equal(res.json().url, '/plain/socket')
      await conn.waitClosed()
    } finally {
      conn.destroy()
    }
    assert.equal(plain.last().headers['x-aauth-level'], 'none')
    assert.equal(plain.last().headers['x-aauth-agent'], undefined)
    await waitFor(() => gw.decisions.length > before, 'a decision line')
    assert.equal(gw.decisions.length, before + 1)
    assert.equal(gw.decisions.at(-1)?.status, 200)
    assert.equal(gw.decisions.at(-1)?.route, 'plain')
  })

  test('a declined upgrade whose answer the backend cuts short ends the client connection and is one upstream_reset line', async () => {
    const before = gw.decisions.length
    const conn = await RawConnection.open(gw.url)
    try {
      conn.write(handshake('/plain/reset'))
      await conn.waitClosed()
      assert.match(conn.unread().toString('latin1'), /^HTTP\/1\.1 200 /)
    } finally {
      conn.destroy()
    }
    await waitFor(() => gw.decisions.length > before, 'a decision line')
    assert.equal(gw.decisions.length, before + 1)
    assert.equal(gw.decisions.at(-1)?.path, '/plain/reset')
    assert.equal(gw.decisions.at(-1)?.reason, 'upstream_reset')
  })

  test('an h2c upgrade is ignored: the request is forwarded as a plain one without its upgrade fields', async () => {
    const conn = await RawConnection.open(gw.url)
    try {
      conn.write(rawMessage('GET', '/plain/h2c', ['Connection: Upgrade, HTTP2-Settings', 'Upgrade: h2c', 'HTTP2-Settings: AAMAAABkAARAAAAAAAIAAAAA']))
      const res = await conn.response()
      assert.equal(res.status, 200)
      assert.equal(res.json().url, '/plain/h2c')
      await conn.waitClosed()
    } finally {
      conn.destroy()
    }
    const got = plain.last().headers
    assert.equal(got.upgrade, undefined)
    assert.equal(got['http2-settings'], undefined)
    assert.notEqual(String(got.connection ?? '').toLowerCase(), 'upgrade')
  })

  test('a handshake with an ambiguous target or a body is refused with 400 and reaches nothing', async () => {
    for (const bytes of [handshake('/open/../id/socket'), handshake('/ps/%2e%2e/open'), handshake('/open/socket', ['Content-Length: 5']) + 'hello']) {
      const conn = await RawConnection.open(gw.url)
      try {
        conn.write(bytes)
        const res = await conn.response()
        assert.equal(res.status, 400, bytes.split('\r\n')[0])
        assert.equal(res.json().error, 'invalid_request')
      } finally {
        conn.destroy()
      }
    }
    assert.deepEqual(backend.upgrades, [])
  })

  test('a tunnel that carries bytes stays open; one idle for limits.tunnel_idle_timeout is closed', { timeout: 20_000 }, async () => {
    const other = await startTestGateway({
      limits: { tunnel_idle_timeout: 1 },
      routes: [{ name: 'open', match: { path_prefix: '/' }, upstream: backend.url, access: 'open' }],
    })
    const conn = await RawConnection.open(other.url)
    try {
      conn.write(handshake('/open/idle'))
      await expectTunnel(conn)
      // Traffic every 200 ms for 2.5 s: well past the 1 s idle limit, and never idle that long.
      for (let i = 0; i < 12; i++) {
        await new Promise((resolve) => setTimeout(resolve, 200))
        conn.write(`p${i % 10}`)
        assert.equal((await conn.take(`echo:p${i % 10}`.length)).toString(), `echo:p${i % 10}`)
      }
      const quiet = performance.now()
      await conn.waitClosed()
      const idle = performance.now() - quiet
      assert.ok(idle >= 900, `closed after ${Math.round(idle)} ms of silence, before the 1 s limit`)
    } finally {
      conn.destroy()
      await other.close()
    }
  })

  test('an open tunnel does not hold the gateway up: drain cuts it at its deadline', { timeout: 15_000 }, async () => {
    const other = await startTestGateway({
      routes: [{ name: 'open', match: { path_prefix: '/' }, upstream: backend.url, access: 'open' }],
    })
    const conn = await RawConnection.open(other.url)
    try {
      conn.write(handshake('/open/held'))
      await expectTunnel(conn)
      const start = performance.now()
      await other.drain(1)
      const elapsed = performance.now() - start
      assert.ok(elapsed >= 900 && elapsed < 5000, `drained after ${Math.round(elapsed)} ms`)
      await conn.waitClosed()
    } finally {
      conn.destroy()
      await other.close().catch(() => undefined)
    }
  })
})

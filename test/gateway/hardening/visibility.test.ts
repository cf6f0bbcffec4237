import assert from 'node:assert/strict'
import type { IncomingMessage, ServerResponse } from 'node:http'
import { after, before, beforeEach, describe, test } from 'node:test'
import { signRequest } from '../../../src/devkit/sign.js'
import { startAgentServer, type AgentServer } from '../../../src/devkit/agent-server.js'
import { RESOURCE_KEY_FILE, resourceKeyFile } from '../../helpers/authorization.js'
import { startBackend, type Backend } from '../../../src/devkit/backend.js'
import { AUTHORITY, startTestGateway, type TestGateway } from '../../helpers/gateway.js'
import { requestCount } from '../../helpers/metrics.js'
import { fieldLines, RawConnection, rawMessage, rawRequest } from '../../helpers/raw-http.js'
import { newKey } from '../../../src/devkit/keys.js'
import { waitFor } from '../../helpers/wait.js'

/**
 * Every request is visible (README "Metrics and logs"): one decision line and one
 * `aauth_gateway_requests_total` sample, also when no handler ever saw it (parser refusals),
 * when the gateway answered it itself (well-known documents), and when the client left before
 * the answer.
 */

/** Requests to /slow are answered only when the test says so; the backend notes when their connection goes. */
const slowClosed: string[] = []
function slowUpstream(req: IncomingMessage, res: ServerResponse): void {
  req.resume()
  res.on('close', () => {
    if (!res.writableFinished) slowClosed.push(req.url ?? '')
  })
  if (req.url?.startsWith('/slow')) return
  req.on('end', () => res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}'))
}

describe('every request is one decision line and one requests_total sample', () => {
  let backend: Backend
  let agent: AgentServer
  let gw: TestGateway
  const key = newKey('Ed25519')

  before(async () => {
    backend = await startBackend({ handler: slowUpstream })
    agent = await startAgentServer()
    gw = await startTestGateway(
      {
        resource: { issuer: 'https://api.test', authority: AUTHORITY, signing_key: RESOURCE_KEY_FILE },
        trust: { agent_providers: [agent.origin], insecure_issuers: [agent.origin] },
        signatures: { schemes: ['hwk', 'jwt'] },
        limits: { max_header_bytes: 4096 },
        routes: [
          { name: 'identified', match: { path_prefix: '/id' }, upstream: backend.url, access: 'identified' },
          { name: 'digest', match: { path_prefix: '/digest' }, upstream: backend.url, access: 'open', components: ['content-digest'] },
          { name: 'all', match: { path_prefix: '/' }, upstream: backend.url, access: 'open' },
        ],
      },
      { [RESOURCE_KEY_FILE]: resourceKeyFile() },
    )
  })
  after(async () => {
    await gw.close()
    await backend.close()
    await agent.close()
  })
  beforeEach(() => {
    backend.reset()
    slowClosed.length = 0
  })

  /** Runs `act` and returns the decision lines it added, once `count` of them arrived. */
  async function linesOf(act: () => Promise<void>, count = 1): Promise<TestGateway['decisions']> {
    const before = gw.decisions.length
    await act()
    await waitFor(() => gw.decisions.length >= before + count, `${count} decision line(s)`)
    return gw.decisions.slice(before)
  }

  test('a bad request line: 400, one line and one sample with no route', async () => {
    const counted = await requestCount(gw, { route: '(none)', reason: 'bad_request' })
    const lines = await linesOf(async () => {
      const res = await rawRequest(gw.url, 'GARBAGE\r\n\r\n')
      assert.equal(res.status, 400)
      assert.equal(res.header('content-type'), 'application/problem+json')
    })
    assert.equal(lines.length, 1)
    assert.equal(lines[0]?.status, 400)
    assert.equal(lines[0]?.reason, 'bad_request')
    assert.equal(lines[0]?.route, '(none)')
    assert.equal(await requestCount(gw, { route: '(none)', reason: 'bad_request' }), counted + 1)
  })

  test('headers beyond limits.max_header_bytes: 431, one line and one sample', async () => {
    const counted = await requestCount(gw, { reason: 'headers_too_large' })
    const lines = await linesOf(async () => {
      const res = await rawRequest(gw.url, rawMessage('GET', '/big', [`X-Big: ${'b'.repeat(8000)}`, 'Connection: close']))
      assert.equal(res.status, 431)
      assert.equal(res.json().status, 431)
    })
    assert.equal(lines.length, 1)
    assert.equal(lines[0]?.status, 431)
    assert.equal(lines[0]?.reason, 'headers_too_large')
    assert.equal(await requestCount(gw, { reason: 'headers_too_large' }), counted + 1)
    assert.deepEqual(backend.arrived, [])
  })

  test('well-known documents: served by the gateway, each one line and one sample under (well-known)', async () => {
    const counted = await requestCount(gw, { route: '(well-known)' })
    const lines = await linesOf(async () => {
      for (const path of ['/.well-known/aauth-resource.json', '/.well-known/aauth-resource-jwks.json']) {
        const res = await rawRequest(gw.url, rawMessage('GET', path, ['Connection: close']))
        assert.equal(res.status, 200, path)
        assert.equal(res.header('content-type'), 'application/json')
        assert.ok(res.json().issuer === 'https://api.test' || Array.isArray(res.json().keys), path)
      }
    }, 2)
    assert.equal(lines.length, 2)
    for (const line of lines) {
      assert.equal(line.route, '(well-known)')
      assert.equal(line.status, 200)
      assert.equal(line.reason, 'ok')
    }
    assert.deepEqual(lines.map((l) => l.path), ['/.well-known/aauth-resource.json', '/.well-known/aauth-resource-jwks.json'])
    assert.equal(await requestCount(gw, { route: '(well-known)' }), counted + 2)
    assert.deepEqual(backend.arrived, [], 'the backend never sees the resource\'s own documents')
  })

  test('a client that leaves while the backend is slow: one line (499 client_closed), one sample, and the upstream request is cut', async () => {
    const counted = await requestCount(gw, { reason: 'client_closed' })
    const lines = await linesOf(async () => {
      const conn = await RawConnection.open(gw.url)
      conn.write(rawMessage('GET', '/slow/leave'))
      await waitFor(() => backend.arrived.length === 1, 'the request at the backend')
      conn.destroy()
    })
    await waitFor(() => slowClosed.length === 1, 'the upstream connection to be closed')
    assert.equal(lines.length, 1)
    assert.equal(lines[0]?.status, 499)
    assert.equal(lines[0]?.reason, 'client_closed')
    assert.equal(lines[0]?.path, '/slow/leave')
    assert.equal(await requestCount(gw, { reason: 'client_closed' }), counted + 1)
  })

  test('a client that leaves during a digest-checked upload: one line and nothing forwarded', async () => {
    const body = 'z'.repeat(100)
    const signed = signRequest({ method: 'POST', authority: AUTHORITY, target: '/digest/up', body }, key, { signatureKey: key.hwk })
    const before = gw.decisions.length
    const conn = await RawConnection.open(gw.url)
    conn.write(rawMessage('POST', '/digest/up', [...fieldLines(signed), `Content-Length: ${body.length}`], body.slice(0, 10)))
    // The close is a FIN behind the bytes already sent: the gateway reads the request, starts on
    // its body for the digest, then finds the connection gone.
    conn.destroy()
    await waitFor(() => gw.decisions.length > before, 'a decision line')
    await new Promise((r) => setTimeout(r, 100))
    assert.equal(gw.decisions.length, before + 1, JSON.stringify(gw.decisions.slice(before)))
    assert.equal(gw.decisions.at(-1)?.path, '/digest/up')
    assert.deepEqual(backend.arrived, [])
  })

  test('a client that leaves while its agent\'s keys are being fetched: nothing is forwarded, one 499 line', async () => {
    const token = await agent.agentToken(key.publicJwk)
    const signed = signRequest({ method: 'GET', authority: AUTHORITY, target: '/id/leave' }, key, { signatureKey: `jwt;jwt="${token}"` })
    agent.jwks = { kind: 'slow', ms: 500 }
    try {
      const counted = await requestCount(gw, { reason: 'client_closed' })
      const lines = await linesOf(async () => {
        const conn = await RawConnection.open(gw.url)
        conn.write(rawMessage('GET', '/id/leave', fieldLines(signed)))
        await waitFor(() => agent.hitsOn('/jwks.json') > 0, 'the gateway to fetch the agent server\'s keys')
        conn.destroy()
      })
      assert.equal(lines.length, 1)
      assert.equal(lines[0]?.status, 499)
      assert.equal(lines[0]?.reason, 'client_closed')
      assert.equal(await requestCount(gw, { reason: 'client_closed' }), counted + 1)
      assert.deepEqual(backend.arrived, [], 'nothing is forwarded for a client that is gone')
    } finally {
      agent.jwks = { kind: 'ok' }
    }
  })
})

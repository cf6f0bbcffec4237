import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import { startBackend, type Backend } from '../../src/devkit/backend.js'
import { eventually } from '../helpers/eventually.js'
import { getFresh, serveProcess, type Got } from '../helpers/serve-process.js'

/** A GET on a fresh connection, resolving status and body, or the error. */
const get = (url: string): Promise<Got | Error> => getFresh(url, {}, 30_000)

/** A backend that takes requests and never answers them. */
const startSilentBackend = (): Promise<Backend> => startBackend({ handler: () => undefined })

describe('serve: SIGTERM drains', () => {
  let slow: Backend
  let dir: string
  before(async () => {
    slow = await startBackend({ delayMs: 1500 })
    dir = mkdtempSync(join(tmpdir(), 'aauth-drain-'))
  })
  after(async () => {
    await slow.close()
    rmSync(dir, { recursive: true, force: true })
  })

  test('readiness turns 503 at once, new connections are refused, slow requests in flight all complete, exit 0', async () => {
    const gw = await serveProcess(dir, { routes: [{ name: 'slow', match: { path_prefix: '/' }, upstream: slow.url, access: 'open' }] })
    assert.equal((await get(`${gw.adminUrl}/readyz`) as { status: number }).status, 200)
    const before = slow.received.length
    const inFlight = [1, 2, 3].map((i) => get(`${gw.url}/slow/${i}`))
    await eventually('the three requests reach the backend', () => slow.received.length === before + 3)
    const signalled = Date.now()
    gw.child.kill('SIGTERM')
    // Readiness is what the load balancer watches: it must flip long before the requests end
    // (the signal itself takes a moment to be delivered and handled).
    let ready = await get(`${gw.adminUrl}/readyz`)
    while (!(ready instanceof Error) && ready.status === 200 && Date.now() - signalled < 1000) ready = await get(`${gw.adminUrl}/readyz`)
    assert.ok(!(ready instanceof Error), 'the admin listener still answers while draining')
    assert.equal(ready.status, 503)
    assert.ok(Date.now() - signalled < 1000, 'readiness flipped before the in-flight requests finished')
    const late = await get(`${gw.url}/slow/late`)
    assert.ok(late instanceof Error, 'the listener no longer accepts connections')
    const answers = await Promise.all(inFlight)
    for (const a of answers) {
      assert.ok(!(a instanceof Error), String(a))
      assert.equal(a.status, 200)
    }
    assert.equal(await gw.exited, 0)
    const lines = gw.decisions()
    assert.deepEqual(lines.filter((l) => l.path.startsWith('/slow/')).map((l) => [l.status, l.reason]), [[200, 'ok'], [200, 'ok'], [200, 'ok']])
  })

  test('requests still running at the drain deadline are cut, logged as shutdown, and the process exits 0', async () => {
    // A backend that takes every request and never answers (no timer left behind to keep the
    // test process alive after it closes).
    const stuck = await startSilentBackend()
    try {
      const gw = await serveProcess(dir, {
        limits: { drain_timeout: 1 },
        routes: [{ name: 'stuck', match: { path_prefix: '/' }, upstream: stuck.url, access: 'open' }],
      })
      const before = stuck.arrived.length
      const pending = get(`${gw.url}/stuck`)
      await eventually('the request reaches the backend', () => stuck.arrived.length === before + 1)
      const signalled = Date.now()
      gw.child.kill('SIGTERM')
      assert.equal(await gw.exited, 0)
      const took = Date.now() - signalled
      assert.ok(took >= 900 && took < 5000, `exited ${took} ms after SIGTERM with drain_timeout 1`)
      assert.ok((await pending) instanceof Error, 'the cut request ends its connection')
      const lines = gw.decisions()
      assert.deepEqual(lines.filter((l) => l.path === '/stuck').map((l) => [l.decision, l.reason]), [['error', 'shutdown']])
    } finally {
      await stuck.close()
    }
  })
})

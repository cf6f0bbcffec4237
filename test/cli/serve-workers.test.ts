import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import { signRequest } from '../../src/devkit/sign.js'
import { startBackend, type Backend } from '../../src/devkit/backend.js'
import { eventually } from '../helpers/eventually.js'
import { getFresh, metricValue, serveProcess, type ServedProcess } from '../helpers/serve-process.js'
import { newKey } from '../../src/devkit/keys.js'

/**
 * `serve` with `workers: 2` (docs/scaling.md), run as a real process: a primary and two workers
 * behind one listener, requests on fresh connections so the cluster hands them out round-robin.
 */

const AUTHORITY = 'api.test'

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

async function metrics(gw: ServedProcess): Promise<string> {
  const got = await getFresh(`${gw.adminUrl}/metrics`)
  if (got instanceof Error) throw got
  return got.body
}

/** SIGTERM, then the primary must exit 0 and leave no worker behind. */
async function stop(gw: ServedProcess): Promise<void> {
  const workers = [...new Set(gw.decisions().map((d) => d.worker))].filter((w): w is number => typeof w === 'number')
  gw.child.kill('SIGTERM')
  assert.equal(await gw.exited, 0, gw.stderr())
  await eventually('every worker has exited', () => workers.every((pid) => !alive(pid)))
}

describe('serve with workers: 2', () => {
  let backend: Backend
  let dir: string
  before(async () => {
    backend = await startBackend()
    dir = mkdtempSync(join(tmpdir(), 'aauth-workers-'))
  })
  after(async () => {
    await backend.close()
    rmSync(dir, { recursive: true, force: true })
  })

  test('a replayed signature is refused whichever worker gets it, and /metrics adds up both workers', async () => {
    const gw = await serveProcess(dir, {
      workers: 2,
      resource: { issuer: 'https://api.test', authority: AUTHORITY },
      signatures: { schemes: ['hwk'] },
      routes: [{ name: 'data', match: { path_prefix: '/data' }, upstream: backend.url, access: 'pseudonymous' }],
    })
    try {
      const key = newKey('Ed25519')
      const headers = signRequest({ method: 'GET', authority: AUTHORITY, target: '/data/once' }, key, { signatureKey: key.hwk })
      const before = backend.received.length
      const first = await getFresh(`${gw.url}/data/once`, headers)
      assert.ok(!(first instanceof Error), String(first))
      assert.equal(first.status, 200, first.body)

      // The same bytes again, each on a new connection, until both workers have refused one.
      let sent = 1
      const replayers = (): Set<unknown> => new Set(gw.decisions().filter((d) => d.reason === 'replay').map((d) => d.worker))
      await eventually('both workers refused a replay', async () => {
        const again = await getFresh(`${gw.url}/data/once`, headers)
        sent++
        assert.ok(!(again instanceof Error), String(again))
        assert.equal(again.status, 401, `replay ${sent} was let through: ${again.body}`)
        return replayers().size === 2
      })
      assert.equal(backend.received.length, before + 1, 'only the first reached the backend')
      await eventually('every request has its decision line', () => gw.decisions().length === sent)
      const lines = gw.decisions()
      const accepted = lines.filter((l) => l.status === 200)
      assert.equal(accepted.length, 1)
      assert.ok(replayers().has(accepted[0]?.worker), 'the worker that accepted it refuses it too')
      assert.ok(lines.every((l) => typeof l.worker === 'number'), 'every decision line names its worker')

      // One admin listener for both: the counts are the sums over the workers.
      const text = await metrics(gw)
      assert.equal(metricValue(text, 'aauth_gateway_requests_total', 'route="data",decision="allow",reason="ok",level="pseudonymous"'), 1)
      assert.equal(metricValue(text, 'aauth_gateway_requests_total', 'route="data",decision="challenge",reason="replay",level="pseudonymous"'), sent - 1)
      assert.equal(metricValue(text, 'aauth_gateway_replay_rejected_total'), sent - 1)
      assert.equal(metricValue(text, 'aauth_gateway_request_duration_seconds_count', 'route="data",decision="challenge"'), sent - 1)
      assert.equal(metricValue(text, 'aauth_gateway_workers'), 2)
      // Every signed request asked the primary's store once (its replay entry), in batches.
      assert.equal(metricValue(text, 'aauth_gateway_store_ipc_operations_total'), sent)
      assert.equal((await getFresh(`${gw.adminUrl}/readyz`) as { status: number }).status, 200)
      assert.equal((await getFresh(`${gw.adminUrl}/healthz`) as { status: number }).status, 200)
    } finally {
      await stop(gw)
    }
  })

  test('a worker killed with SIGKILL is replaced, and every request sent meanwhile is answered', async () => {
    const gw = await serveProcess(dir, {
      workers: 2,
      routes: [{ name: 'open', match: { path_prefix: '/' }, upstream: backend.url, access: 'open' }],
    })
    try {
      const failures: string[] = []
      let n = 0
      const one = async (): Promise<void> => {
        const got = await getFresh(`${gw.url}/loop/${++n}`)
        if (got instanceof Error || got.status !== 200) failures.push(`request ${n}: ${got instanceof Error ? got.message : got.status}`)
      }
      const servedBy = (): Set<number> => new Set(gw.decisions().map((d) => d.worker as number))
      for (let i = 0; i < 4; i++) await one()
      await eventually('both workers served', () => servedBy().size === 2)
      const original = [...servedBy()]
      // Kill each original worker in turn, the next request going out at once each time.
      for (const victim of original) {
        // A worker writes its decision lines at the end of its event-loop turn; let it, so the
        // lines counted below are not lost with it.
        await eventually('every request so far has its decision line', () => gw.decisions().length === n)
        const seen = servedBy()
        process.kill(victim, 'SIGKILL')
        await eventually(
          `a replacement for ${victim} serves`,
          async () => {
            await one()
            return [...servedBy()].some((w) => !seen.has(w))
          },
          { timeoutMs: 15_000, intervalMs: 0 },
        )
        assert.match(gw.stderr(), new RegExp(`worker ${victim} exited \\(signal SIGKILL\\); starting another`))
      }
      assert.deepEqual(failures, [], 'the listener answered every request')
      await eventually('every request has its decision line', () => gw.decisions().length === n)
      const byOriginals = gw.decisions().filter((d) => original.includes(d.worker as number))
      assert.ok(byOriginals.length < n, 'replacements served too')
      const text = await metrics(gw)
      assert.equal(metricValue(text, 'aauth_gateway_worker_restarts_total'), 2)
      assert.equal(metricValue(text, 'aauth_gateway_workers'), 2)
    } finally {
      await stop(gw)
    }
  })

  test('SIGHUP reloads every worker', async () => {
    const route = (access: string): Record<string, unknown> => ({ name: 'api', match: { path_prefix: '/' }, upstream: backend.url, access })
    const gw = await serveProcess(dir, { workers: 2, routes: [route('open')] })
    try {
      const reloadsOk = async (): Promise<number> => metricValue(await metrics(gw), 'aauth_gateway_config_reloads_total', 'result="ok"') ?? 0
      assert.equal(await reloadsOk(), 0)
      // Nothing changed on disk: only the forwarded signal makes a worker reload (and count it).
      gw.child.kill('SIGHUP')
      await eventually('both workers reloaded', async () => (await reloadsOk()) === 2)

      // Now a change: the route needs a signature. Each worker must answer the new way.
      gw.writeConfig({ workers: 2, routes: [route('pseudonymous')] })
      gw.child.kill('SIGHUP')
      let n = 0
      const newWay = new Set<number>()
      await eventually(
        'both workers answer unsigned requests with 401',
        async () => {
          const path = `/after-reload/${++n}`
          const got = await getFresh(`${gw.url}${path}`)
          assert.ok(!(got instanceof Error), String(got))
          let line: { worker?: number; status: number } | undefined
          await eventually(`the decision line of ${path}`, () => (line = gw.decisions().find((d) => d.path === path)) !== undefined)
          if (line?.status === 401) newWay.add(line.worker as number)
          return newWay.size === 2
        },
        { timeoutMs: 10_000 },
      )
    } finally {
      await stop(gw)
    }
  })

  test('SIGTERM drains every worker: readiness 503 at once, in-flight requests complete, the listener closes, exit 0', async () => {
    const slow = await startBackend({ delayMs: 1500 })
    try {
      const gw = await serveProcess(dir, {
        workers: 2,
        routes: [
          { name: 'fast', match: { path_prefix: '/fast' }, upstream: backend.url, access: 'open' },
          { name: 'slow', match: { path_prefix: '/' }, upstream: slow.url, access: 'open' },
        ],
      })
      assert.equal((await getFresh(`${gw.adminUrl}/readyz`) as { status: number }).status, 200)
      const inFlight = [1, 2, 3, 4].map((i) => getFresh(`${gw.url}/slow/${i}`))
      await eventually('the backend has all four', () => slow.received.length === 4)
      const signalled = Date.now()
      gw.child.kill('SIGTERM')
      let ready = await getFresh(`${gw.adminUrl}/readyz`)
      while (!(ready instanceof Error) && ready.status === 200 && Date.now() - signalled < 1000) ready = await getFresh(`${gw.adminUrl}/readyz`)
      assert.ok(!(ready instanceof Error), 'the admin listener still answers while draining')
      assert.equal(ready.status, 503)
      assert.ok(Date.now() - signalled < 1000, 'readiness flipped before the in-flight requests finished')
      // Workers close their listeners as the forwarded signal reaches them; a connection the
      // primary accepted before the last one closed may still be answered, one after is refused.
      await eventually(
        'new connections are refused',
        async () => {
          const late = await getFresh(`${gw.url}/fast/late`)
          if (!(late instanceof Error)) return false
          assert.match((late as NodeJS.ErrnoException).code ?? '', /^(ECONNREFUSED|ECONNRESET)$/, String(late))
          return true
        },
        { timeoutMs: 2000 },
      )
      for (const a of await Promise.all(inFlight)) {
        assert.ok(!(a instanceof Error), String(a))
        assert.equal(a.status, 200)
      }
      await stop(gw)
      assert.match(gw.stderr(), /every worker drained/)
      const lines = gw.decisions().filter((l) => l.path.startsWith('/slow/'))
      assert.deepEqual(lines.map((l) => l.status), [200, 200, 200, 200])
      assert.equal(new Set(lines.map((l) => l.worker)).size, 2, 'both workers had requests in flight')
    } finally {
      await slow.close()
    }
  })
})

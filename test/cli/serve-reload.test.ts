import assert from 'node:assert/strict'
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import { startBackend, type Backend } from '../../src/devkit/backend.js'
import { eventually } from '../helpers/eventually.js'
import { getFresh, metricValue, serveProcess, type ServedProcess } from '../helpers/serve-process.js'

/**
 * `aauth-gateway serve` (one process) picks up a changed config on SIGHUP and on its own, through
 * the file watcher (docs/operations.md), as an operator sees it: the answers
 * to real requests change and `aauth_gateway_config_reloads_total` counts the reload.
 */
describe('serve: reloading the config', () => {
  let backend: Backend
  let dir: string
  before(async () => {
    backend = await startBackend()
    dir = mkdtempSync(join(tmpdir(), 'aauth-serve-reload-'))
  })
  after(async () => {
    await backend.close()
    rmSync(dir, { recursive: true, force: true })
  })

  const route = (access: string): Record<string, unknown> => ({ name: 'api', match: { path_prefix: '/' }, upstream: backend.url, access })

  async function reloadsOk(gw: ServedProcess): Promise<number> {
    const got = await getFresh(`${gw.adminUrl}/metrics`)
    if (got instanceof Error) throw got
    return metricValue(got.body, 'aauth_gateway_config_reloads_total', 'result="ok"') ?? 0
  }

  async function unsignedStatus(gw: ServedProcess): Promise<number> {
    const got = await getFresh(`${gw.url}/data`)
    if (got instanceof Error) throw got
    return got.status
  }

  async function stop(gw: ServedProcess): Promise<void> {
    gw.child.kill('SIGTERM')
    assert.equal(await gw.exited, 0, gw.stderr())
  }

  test('SIGHUP reloads: with nothing changed it still rebuilds once, after a change the new routes answer', async () => {
    mkdirSync(join(dir, 'hup'))
    const gw = await serveProcess(join(dir, 'hup'), { routes: [route('open')] })
    try {
      assert.equal(await unsignedStatus(gw), 200)
      assert.equal(await reloadsOk(gw), 0)
      // Nothing changed on disk, so the watcher and its periodic check have nothing to reload:
      // this reload can only come from the signal.
      gw.child.kill('SIGHUP')
      await eventually('the SIGHUP reload is counted', async () => (await reloadsOk(gw)) === 1, { timeoutMs: 10_000 })

      gw.writeConfig({ routes: [route('pseudonymous')] })
      gw.child.kill('SIGHUP')
      await eventually('an unsigned request to the route is now refused with 401', async () => (await unsignedStatus(gw)) === 401, { timeoutMs: 10_000 })
      assert.ok((await reloadsOk(gw)) >= 2)
      assert.match(gw.stderr(), /config reloaded/)
    } finally {
      await stop(gw)
    }
  })

  test('a changed config file is picked up by the watcher, with no signal', async () => {
    mkdirSync(join(dir, 'watch'))
    const gw = await serveProcess(join(dir, 'watch'), { routes: [route('open')] })
    try {
      assert.equal(await unsignedStatus(gw), 200)
      gw.writeConfig({ routes: [route('pseudonymous')] })
      await eventually('an unsigned request to the route is now refused with 401', async () => (await unsignedStatus(gw)) === 401, { timeoutMs: 10_000 })
      await eventually('the reload is counted once', async () => (await reloadsOk(gw)) === 1)
      // An invalid edit is refused and the last good config keeps serving.
      gw.writeConfig({ routes: [{ ...route('open'), acess: 'open' }] })
      const errors = async (): Promise<number> => {
        const got = await getFresh(`${gw.adminUrl}/metrics`)
        if (got instanceof Error) throw got
        return metricValue(got.body, 'aauth_gateway_config_reloads_total', 'result="error"') ?? 0
      }
      await eventually('the invalid edit is counted as a failed reload', async () => (await errors()) === 1, { timeoutMs: 10_000 })
      assert.equal(await unsignedStatus(gw), 401, 'the previous config still applies')
    } finally {
      await stop(gw)
    }
  })
})

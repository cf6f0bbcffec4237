import assert from 'node:assert/strict'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import { stringify } from 'yaml'
import { startGateway, type RunningGateway } from '../../src/gateway.js'
import { startBackend, type Backend } from '../../src/devkit/backend.js'
import { ConfigMapVolume, replaceDirectory, replaceFileAtomically, writeTree } from '../helpers/config-files.js'
import { eventually } from '../helpers/eventually.js'
import { send, startTestGateway } from '../helpers/gateway.js'

/**
 * Reloads as deployments cause them (docs/operations.md), end to end: a gateway started with
 * `watch: true` (as `serve` runs it) over real files, and real requests whose answers change
 * once the new files are in service. Each wait has a deadline; nothing sleeps a fixed time.
 */

describe('reloads triggered by the files a deployment replaces', () => {
  let backend: Backend
  const cleanup: (() => Promise<void> | void)[] = []

  before(async () => {
    backend = await startBackend()
  })
  after(async () => {
    for (const fn of cleanup.reverse()) await fn()
    await backend.close()
  })

  function tempDir(): string {
    const dir = mkdtempSync(join(tmpdir(), 'aauth-gw-reload-'))
    cleanup.push(() => rmSync(dir, { recursive: true, force: true }))
    return dir
  }

  async function watched(configFile: string): Promise<RunningGateway> {
    const gw = await startGateway({ configFile, watch: true, log: { write: () => undefined } })
    cleanup.push(() => gw.close())
    return gw
  }

  /** Open routes under `/<name>`, each with the `gate` policy when `policies` is set. */
  function configYaml(routes: string[], o: { policies?: string; listen?: string } = {}): string {
    return stringify({
      listen: o.listen ?? '127.0.0.1:0',
      admin: '127.0.0.1:0',
      resource: { issuer: 'https://api.test' },
      ...(o.policies ? { policies: o.policies } : {}),
      routes: routes.map((name) => ({
        name,
        match: { path_prefix: `/${name}` },
        upstream: backend.url,
        access: 'open',
        ...(o.policies ? { policy: 'gate' } : {}),
      })),
    })
  }
  /** A policy denying paths under /data/<word>. */
  const gate = (word: string): string => `name: gate\nrules:\n  - deny: 'request.path.startsWith("/data/${word}")'\n`

  async function statuses(gw: RunningGateway, paths: string[]): Promise<string> {
    const answers = await Promise.all(paths.map(async (p) => `${p} ${(await send(gw, p)).status}`))
    return answers.join(', ')
  }
  async function answersBecome(gw: RunningGateway, expected: Record<string, number>): Promise<void> {
    const want = Object.entries(expected).map(([p, s]) => `${p} ${s}`).join(', ')
    let last = ''
    await eventually(`answers ${want}`, async () => (last = await statuses(gw, Object.keys(expected))) === want).catch((err: Error) => {
      throw new Error(`${err.message}; last seen ${last}`)
    })
  }

  test('a ConfigMap update (..data swapped) changes the routes and the policy decisions', async () => {
    const volume = new ConfigMapVolume(tempDir())
    volume.publish({ 'gateway.yaml': configYaml(['data'], { policies: 'policies' }), 'policies/gate.yaml': gate('one') })
    const gw = await watched(join(volume.dir, 'gateway.yaml'))
    assert.equal(await statuses(gw, ['/data/one', '/data/two', '/extra/1']), '/data/one 403, /data/two 200, /extra/1 404')

    volume.publish({ 'gateway.yaml': configYaml(['data', 'extra'], { policies: 'policies' }), 'policies/gate.yaml': gate('two') })
    await answersBecome(gw, { '/data/one': 200, '/data/two': 403, '/extra/1': 200 })
    volume.publish({ 'gateway.yaml': configYaml(['data'], { policies: 'policies' }), 'policies/gate.yaml': gate('three') })
    await answersBecome(gw, { '/data/two': 200, '/data/three': 403, '/extra/1': 404 })
  })

  test('a config file replaced by an atomic rename changes the routes', async () => {
    const dir = tempDir()
    writeTree(dir, { 'gateway.yaml': configYaml(['data']) })
    const gw = await watched(join(dir, 'gateway.yaml'))
    replaceFileAtomically(join(dir, 'gateway.yaml'), configYaml(['data', 'extra']))
    await answersBecome(gw, { '/data/1': 200, '/extra/1': 200 })
    replaceFileAtomically(join(dir, 'gateway.yaml'), configYaml(['extra']))
    await answersBecome(gw, { '/data/1': 404, '/extra/1': 200 })
  })

  test('a policy directory renamed over the old one takes effect, and so does a later edit inside it', async () => {
    const dir = tempDir()
    writeTree(dir, { 'gateway.yaml': configYaml(['data'], { policies: 'policies' }), 'policies/gate.yaml': gate('one') })
    const gw = await watched(join(dir, 'gateway.yaml'))
    assert.equal(await statuses(gw, ['/data/one']), '/data/one 403')

    replaceDirectory(join(dir, 'policies'), { 'gate.yaml': gate('two') })
    await answersBecome(gw, { '/data/one': 200, '/data/two': 403 })
    writeFileSync(join(dir, 'policies', 'gate.yaml'), gate('three'))
    await answersBecome(gw, { '/data/two': 200, '/data/three': 403 })
  })

  test('a watched change of listen applies the rest, reports restart_required and keeps serving where it was', async () => {
    const dir = tempDir()
    writeTree(dir, { 'gateway.yaml': configYaml(['data']) })
    const gw = await watched(join(dir, 'gateway.yaml'))
    replaceFileAtomically(join(dir, 'gateway.yaml'), configYaml(['data', 'extra'], { listen: '127.0.0.1:1' }))
    await answersBecome(gw, { '/data/1': 200, '/extra/1': 200 })
    const metrics = await (await fetch(gw.adminUrl + '/metrics')).text()
    assert.match(metrics, /aauth_gateway_config_reloads_total\{result="restart_required"\} 1\n/)
    assert.doesNotMatch(metrics, /aauth_gateway_config_reloads_total\{result="ok"\}/)
  })

  test('a reload changing limits.header_timeout reports restart_required and keeps serving', async () => {
    const route = (name: string): Record<string, unknown> => ({ name, match: { path_prefix: `/${name}` }, upstream: backend.url, access: 'open' })
    const gw = await startTestGateway({ routes: [route('data')] })
    cleanup.push(() => gw.close())
    gw.writeConfig({ limits: { header_timeout: 3 }, routes: [route('data'), route('extra')] })
    assert.equal(await gw.reload(), true, 'a reload needing a restart still swaps in what applies live')
    assert.equal(await statuses(gw, ['/data/1', '/extra/1']), '/data/1 200, /extra/1 200')
    const metrics = await (await fetch(gw.adminUrl + '/metrics')).text()
    assert.match(metrics, /aauth_gateway_config_reloads_total\{result="restart_required"\} 1\n/)
  })
})

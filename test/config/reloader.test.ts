import assert from 'node:assert/strict'
import { mkdirSync, mkdtempSync, renameSync, rmSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, test } from 'node:test'
import { stringify } from 'yaml'
import type { Snapshot } from '../../src/config/compile.js'
import { newKey } from '../../src/devkit/keys.js'
import { createReloader, type Reloader, type ReloaderOptions } from '../../src/config/reloader.js'
import { GatewayMetrics } from '../../src/metrics/metrics.js'
import { directoriesIdentity } from '../../src/config/watch.js'
import { ConfigMapVolume, replaceDirectory, replaceFileAtomically, writeTree } from '../helpers/config-files.js'
import { eventually } from '../helpers/eventually.js'

/**
 * The reloader against real files and real filesystem events. With `pollMs: 0` only events can
 * trigger a reload, so these tests fail if a way of replacing files goes unnoticed by the
 * watches; the poll has its own test with events held back.
 */

const EVENTS_ONLY = { watch: true, pollMs: 0, debounceMs: 50 } as const

interface ConfigShape {
  routes?: string[]
  policies?: string
  listen?: string
  limits?: Record<string, number>
  /** Top-level keys written as they are. */
  extra?: Record<string, unknown>
}

function configYaml(o: ConfigShape = {}): string {
  return stringify({
    listen: o.listen ?? '127.0.0.1:0',
    admin: '127.0.0.1:0',
    resource: { issuer: 'https://api.test' },
    ...o.extra,
    ...(o.limits ? { limits: o.limits } : {}),
    ...(o.policies ? { policies: o.policies } : {}),
    routes: (o.routes ?? ['data']).map((name) => ({
      name,
      match: { path_prefix: `/${name}` },
      upstream: 'http://127.0.0.1:9',
      access: 'open',
      ...(o.policies ? { policy: 'gate' } : {}),
    })),
  })
}

const gatePolicy = (word: string): string => `name: gate\nrules:\n  - deny: 'request.path.startsWith("/data/${word}")'\n`
const gateWord = (s: Snapshot): string | undefined => /\/data\/(\w+)/.exec(s.policies.get('gate')?.rules[0]?.source ?? '')?.[1]

const cleanup: (() => void)[] = []
afterEach(() => {
  for (const fn of cleanup.splice(0)) fn()
})

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'aauth-reload-'))
  cleanup.push(() => rmSync(dir, { recursive: true, force: true }))
  return dir
}

/** Warnings and errors the reloader logged, as their messages (info lines are not kept). */
async function reloader(configFile: string, options: Partial<ReloaderOptions> = {}): Promise<{ r: Reloader; metrics: GatewayMetrics; logged: string[] }> {
  const metrics = new GatewayMetrics()
  const logged: string[] = []
  const keep = (_fields: object, msg: string): void => void logged.push(msg)
  const log = { debug: () => undefined, info: () => undefined, warn: keep, error: keep }
  const r = await createReloader({ configFile, env: {}, watch: false, metrics, log, ...options })
  cleanup.unshift(() => r.close())
  return { r, metrics, logged }
}

async function reloadCounts(metrics: GatewayMetrics): Promise<Record<string, number>> {
  const counts: Record<string, number> = {}
  for (const v of (await metrics.configReloads.get()).values) counts[String(v.labels.result)] = v.value
  return counts
}

test('a ConfigMap update (..data symlink swapped) reloads the config and the policies, and keeps doing so', async () => {
  const volume = new ConfigMapVolume(tempDir())
  volume.publish({ 'gateway.yaml': configYaml({ policies: 'policies' }), 'policies/gate.yaml': gatePolicy('one') })
  const { r } = await reloader(join(volume.dir, 'gateway.yaml'), EVENTS_ONLY)
  assert.equal(gateWord(r.current), 'one')

  volume.publish({ 'gateway.yaml': configYaml({ policies: 'policies', routes: ['data', 'extra'] }), 'policies/gate.yaml': gatePolicy('two') })
  await eventually('the second ConfigMap version in service', () => gateWord(r.current) === 'two')
  assert.deepEqual(r.current.routeNames, ['data', 'extra'])

  // The directory the first watches pointed into is gone now: the next update must still be seen.
  volume.publish({ 'gateway.yaml': configYaml({ policies: 'policies' }), 'policies/gate.yaml': gatePolicy('three') })
  await eventually('the third ConfigMap version in service', () => gateWord(r.current) === 'three')
  assert.deepEqual(r.current.routeNames, ['data'])
})

test('a config file replaced by an atomic rename reloads, again and again', async () => {
  const dir = tempDir()
  writeTree(dir, { 'gateway.yaml': configYaml() })
  const { r } = await reloader(join(dir, 'gateway.yaml'), EVENTS_ONLY)
  for (const routes of [['data', 'a'], ['data', 'b'], ['c']]) {
    replaceFileAtomically(join(dir, 'gateway.yaml'), configYaml({ routes }))
    await eventually(`routes ${routes.join(',')} in service`, () => r.current.routeNames.join() === routes.join())
  }
})

test('a config file that is a symlink to a file elsewhere reloads when that file is edited in place', async () => {
  const dir = tempDir()
  writeTree(dir, { 'shared/gateway.yaml': configYaml() })
  mkdirSync(join(dir, 'conf'))
  symlinkSync(join('..', 'shared', 'gateway.yaml'), join(dir, 'conf', 'gateway.yaml'))
  const { r } = await reloader(join(dir, 'conf', 'gateway.yaml'), EVENTS_ONLY)
  writeFileSync(join(dir, 'shared', 'gateway.yaml'), configYaml({ routes: ['edited'] }))
  await eventually('the edited target in service', () => r.current.routeNames.join() === 'edited')
})

test('a policy directory renamed over the old one reloads, and later edits inside the new one reload', async () => {
  const dir = tempDir()
  // Kept apart from the config file's directory, so only the policy watches can see the rename.
  writeTree(dir, { 'conf/gateway.yaml': configYaml({ policies: '../policies' }), 'policies/gate.yaml': gatePolicy('one') })
  const { r } = await reloader(join(dir, 'conf', 'gateway.yaml'), EVENTS_ONLY)

  replaceDirectory(join(dir, 'policies'), { 'gate.yaml': gatePolicy('two') })
  await eventually('the renamed-in directory in service', () => gateWord(r.current) === 'two')
  writeFileSync(join(dir, 'policies', 'gate.yaml'), gatePolicy('three'))
  await eventually('an edit inside the renamed-in directory in service', () => gateWord(r.current) === 'three')
})

test('a policy directory symlink switched to another release (the old one kept) reloads, and so do edits in the new release', async () => {
  const dir = tempDir()
  writeTree(dir, { 'conf/gateway.yaml': configYaml({ policies: '../policies' }), 'releases/1/gate.yaml': gatePolicy('one'), 'releases/2/gate.yaml': gatePolicy('two') })
  symlinkSync(join('releases', '1'), join(dir, 'policies'))
  const { r } = await reloader(join(dir, 'conf', 'gateway.yaml'), EVENTS_ONLY)
  assert.equal(gateWord(r.current), 'one')

  symlinkSync(join('releases', '2'), join(dir, 'policies.tmp'))
  renameSync(join(dir, 'policies.tmp'), join(dir, 'policies'))
  await eventually('the second release in service', () => gateWord(r.current) === 'two')
  writeFileSync(join(dir, 'releases', '2', 'gate.yaml'), gatePolicy('three'))
  await eventually('an edit inside the second release in service', () => gateWord(r.current) === 'three')
  writeFileSync(join(dir, 'releases', '1', 'gate.yaml'), gatePolicy('four'))
  assert.equal(await r.check(), 'unchanged', 'the release no longer linked is not read')
})

test('a directory replaced by an identical one reloads nothing, but its watch identity changes', async () => {
  const dir = tempDir()
  writeTree(dir, { 'gateway.yaml': configYaml({ policies: 'policies' }), 'policies/gate.yaml': gatePolicy('one') })
  const { r, metrics } = await reloader(join(dir, 'gateway.yaml'))
  const dirs = [join(dir, 'policies')]
  const before = directoriesIdentity(dirs)
  writeFileSync(join(dir, 'policies', 'other.yaml'), 'name: other\nrules:\n  - allow: "true"\n')
  rmSync(join(dir, 'policies', 'other.yaml'))
  assert.equal(directoriesIdentity(dirs), before, 'edits inside keep the watch where it is')

  replaceDirectory(join(dir, 'policies'), { 'gate.yaml': gatePolicy('one') })
  assert.notEqual(directoriesIdentity(dirs), before, 'a new directory at the path is watched anew on the next check')
  assert.equal(await r.check(), 'unchanged')
  assert.deepEqual(await reloadCounts(metrics), {})
})

test('a check reloads only when the content changed: a touch does not, an invalid file is tried once', async () => {
  const dir = tempDir()
  const file = join(dir, 'gateway.yaml')
  writeTree(dir, { 'gateway.yaml': configYaml() })
  const { r, metrics, logged } = await reloader(file)
  const first = r.current

  utimesSync(file, new Date(), new Date(Date.now() + 5000))
  assert.equal(await r.check(), 'unchanged')
  assert.equal(r.current, first)

  writeFileSync(file, 'listen: [\n')
  assert.equal(await r.check(), 'error')
  assert.equal(await r.check(), 'unchanged', 'the same invalid content is not rebuilt on every check')
  assert.equal(r.current, first, 'the previous snapshot keeps serving')
  assert.match(logged.join('\n'), /reload failed, keeping the previous config/)

  writeFileSync(file, configYaml({ routes: ['fixed'] }))
  assert.equal(await r.check(), 'ok')
  assert.deepEqual(r.current.routeNames, ['fixed'])
  assert.equal(await r.reload(), 'ok', 'an explicit reload (SIGHUP) builds even when nothing changed')
  assert.deepEqual(await reloadCounts(metrics), { error: 1, ok: 2 })
})

test('a rotated signing key is a change a check reloads', async () => {
  const dir = tempDir()
  const key = (kid: string): string => JSON.stringify(newKey('Ed25519', kid).privateJwk)
  writeTree(dir, { 'gateway.yaml': configYaml({ extra: { resource: { issuer: 'https://api.test', signing_key: 'keys/resource.jwk.json' } } }), 'keys/resource.jwk.json': key('k1') })
  const { r } = await reloader(join(dir, 'gateway.yaml'))
  assert.equal(r.current.resource.signingKey?.kid, 'k1')
  replaceFileAtomically(join(dir, 'keys', 'resource.jwk.json'), key('k2'))
  assert.equal(await r.check(), 'ok')
  assert.equal(r.current.resource.signingKey?.kid, 'k2')
})

test('a check follows a policy directory that a not-yet-valid config already names', async () => {
  const dir = tempDir()
  writeTree(dir, { 'gateway.yaml': configYaml({ policies: 'p1' }), 'p1/gate.yaml': gatePolicy('one'), 'p2/gate.yaml': 'name: gate\nrules: []\n' })
  const { r } = await reloader(join(dir, 'gateway.yaml'))
  writeFileSync(join(dir, 'gateway.yaml'), configYaml({ policies: 'p2' }))
  assert.equal(await r.check(), 'error', 'p2 holds an invalid policy')
  writeFileSync(join(dir, 'p2', 'gate.yaml'), gatePolicy('two'))
  assert.equal(await r.check(), 'ok')
  assert.equal(gateWord(r.current), 'two')
})

test('the periodic check catches a change whose file events never arrive', async () => {
  const dir = tempDir()
  writeTree(dir, { 'gateway.yaml': configYaml() })
  // Events are gathered for a minute, so within this test only the poll can reload.
  const { r } = await reloader(join(dir, 'gateway.yaml'), { watch: true, pollMs: 100, debounceMs: 60_000 })
  writeFileSync(join(dir, 'gateway.yaml'), configYaml({ routes: ['polled'] }))
  await eventually('the polled change in service', () => r.current.routeNames.join() === 'polled')
})

test('keys applied only at start: the rest is swapped in, one line names them, the result is restart_required', async () => {
  const dir = tempDir()
  const file = join(dir, 'gateway.yaml')
  writeTree(dir, { 'gateway.yaml': configYaml() })
  const swaps: [Snapshot, Snapshot][] = []
  const { r, metrics, logged } = await reloader(file, { onSwap: (next, previous) => void swaps.push([next, previous]) })
  const started = r.current

  writeFileSync(file, configYaml({ routes: ['data', 'added'], listen: '127.0.0.1:1', limits: { header_timeout: 3, fetch_timeout: 2 } }))
  assert.equal(await r.reload(), 'restart_required')
  assert.deepEqual(r.current.routeNames, ['data', 'added'], 'what applies live was swapped in')
  assert.equal(r.current.resource.limits.fetch_timeout, 2)
  assert.deepEqual(logged, [
    'config reloaded, but listen, limits.header_timeout changed and apply only after a restart; the values from start stay in effect',
  ])
  assert.deepEqual(swaps, [[r.current, started]])

  // Compared with the start, not the previous reload: still pending on the next one.
  writeFileSync(file, configYaml({ routes: ['data'], listen: '127.0.0.1:1', limits: { header_timeout: 3 } }))
  assert.equal(await r.reload(), 'restart_required')
  writeFileSync(file, configYaml({ limits: { max_header_bytes: 100 }, extra: { admin: '127.0.0.1:2', signatures: { replay: { max_entries: 10 } } } }))
  assert.equal(await r.reload(), 'restart_required')
  assert.equal(
    logged.at(-1),
    'config reloaded, but admin, limits.max_header_bytes, signatures.replay.max_entries changed and apply only after a restart; the values from start stay in effect',
  )
  writeFileSync(file, configYaml())
  assert.equal(await r.reload(), 'ok', 'back to the start values')
  assert.deepEqual(await reloadCounts(metrics), { restart_required: 3, ok: 1 })
})

import type { OpsLog } from '../../src/log/logger.js'
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { availableParallelism, tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { stringify } from 'yaml'
import { compileConfig } from '../../src/config/compile.js'
import { parseConfigText } from '../../src/config/load.js'
import { createReloader } from '../../src/config/reloader.js'
import { ConfigError } from '../../src/errors.js'
import { GatewayMetrics } from '../../src/metrics/metrics.js'

const workersOf = async (value?: unknown): Promise<number> =>
  (await compileConfig(parseConfigText(stringify(value === undefined ? {} : { workers: value }), 'g.yaml'))).workers

test('workers: 1 by default, a count, or auto (one per core this process may use)', async () => {
  assert.equal(await workersOf(), 1)
  assert.equal(await workersOf(4), 4)
  assert.equal(await workersOf('auto'), availableParallelism())
})

test('workers: anything else is refused with its line', () => {
  for (const bad of [0, -2, 1.5, 'many', 1000]) {
    try {
      parseConfigText(`listen: "127.0.0.1:8080"\nworkers: ${JSON.stringify(bad)}\n`, 'g.yaml')
      assert.fail(`workers: ${String(bad)} was accepted`)
    } catch (err) {
      assert.ok(err instanceof ConfigError, String(err))
      assert.deepEqual(err.problems.map((p) => [p.line, p.key]), [[2, 'workers']], String(bad))
    }
  }
})

test('workers applies only at restart: a reload changing it is restart_required and keeps the start value', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'aauth-workers-config-'))
  try {
    const file = join(dir, 'gateway.yaml')
    writeFileSync(file, stringify({ workers: 2 }))
    const logged: string[] = []
    const r = await createReloader({ configFile: file, env: {}, watch: false, metrics: new GatewayMetrics(), log: recorder(logged) })
    writeFileSync(file, stringify({ workers: 3 }))
    assert.equal(await r.reload(), 'restart_required')
    assert.match(logged.at(-1) ?? '', /but workers changed and apply only after a restart/)
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})

/** An operational log that keeps each message. */
function recorder(into: string[]): OpsLog {
  const keep = (_fields: object, msg: string): void => void into.push(msg)
  return { debug: keep, info: keep, warn: keep, error: keep }
}

import assert from 'node:assert/strict'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import { stringify } from 'yaml'
import { ConfigError } from '../../src/errors.js'
import { startGateway, type RunningGateway } from '../../src/gateway.js'
import { createLogger } from '../../src/log/logger.js'
import { startBackend, type Backend } from '../../src/devkit/backend.js'
import { send } from '../helpers/gateway.js'

/** A pino destination that keeps each line written, as text. */
function lines(): { write(line: string): void; all: string[]; parsed(): Record<string, unknown>[] } {
  const all: string[] = []
  return { write: (line) => void all.push(line), all, parsed: () => all.map((l) => JSON.parse(l) as Record<string, unknown>) }
}

describe('logs: JSON lines with standard fields, levels, LOG_LEVEL', () => {
  let backend: Backend
  let dir: string
  const running: RunningGateway[] = []

  before(async () => {
    backend = await startBackend()
    dir = mkdtempSync(join(tmpdir(), 'aauth-logs-'))
  })
  after(async () => {
    for (const gw of running) await gw.close()
    await backend.close()
    rmSync(dir, { recursive: true, force: true })
  })

  let n = 0
  /** Starts a real gateway from `extra` config with both logs captured (nothing to stdout or stderr). */
  async function start(extra: Record<string, unknown>, env: NodeJS.ProcessEnv = {}) {
    const configFile = join(dir, `gateway-${++n}.yaml`)
    const write = (more: Record<string, unknown>): void =>
      writeFileSync(configFile, stringify({
        listen: '127.0.0.1:0',
        admin: '127.0.0.1:0',
        resource: { issuer: 'https://api.test' },
        routes: [{ name: 'open', match: { path_prefix: '/' }, upstream: backend.url, access: 'open' }],
        ...extra,
        ...more,
      }))
    write({})
    const ops = lines()
    const decisions = lines()
    const gw = await startGateway({ configFile, env, logDestinations: { operational: ops, decisions } })
    running.push(gw)
    return { gw, ops, decisions, write }
  }

  test('a decision line is JSON with time, level, msg, request_id and aauth_level; no identity level as `level`', async () => {
    const { gw, decisions } = await start({})
    const res = await send(gw, '/x?y=1')
    assert.equal(res.status, 200)
    const [line] = decisions.parsed()
    assert.ok(line, 'one decision line')
    assert.equal(line.level, 'info')
    assert.equal(line.msg, 'request')
    assert.match(String(line.time), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/)
    assert.equal(line.aauth_level, 'none')
    assert.equal(line.request_id, res.headers.get('x-request-id'))
    assert.equal(line.route, 'open')
    assert.equal(line.status, 200)
    assert.equal(line.detail, '')
    assert.equal(typeof line.pid, 'number')
    assert.ok(decisions.all[0]?.endsWith('\n'), 'one line each')
  })

  test('operational lines carry levels: a failed reload is an error with its problems, a good one is info', async () => {
    const { gw, ops, write } = await start({})
    write({ routes: 'not a list' })
    assert.equal(await gw.reload(), false)
    const failed = ops.parsed().at(-1)
    assert.equal(failed?.level, 'error')
    assert.equal(failed?.msg, 'reload failed, keeping the previous config')
    const problems = failed?.problems as { key: string; line: number }[]
    assert.equal(problems[0]?.key, 'routes')
    assert.ok((problems[0]?.line ?? 0) > 0, 'the problem has its line')
    write({})
    assert.equal(await gw.reload(), true)
    const ok = ops.parsed().at(-1)
    assert.equal(ok?.level, 'info')
    assert.equal(ok?.msg, 'config reloaded')
  })

  test('log.level: warn silences decision lines (they are info); LOG_LEVEL overrides the config', async () => {
    const quiet = await start({ log: { level: 'warn' } })
    await send(quiet.gw, '/quiet')
    assert.deepEqual(quiet.decisions.all, [])

    const loud = await start({ log: { level: 'warn' } }, { LOG_LEVEL: 'debug' })
    await send(loud.gw, '/loud')
    assert.equal(loud.decisions.parsed().length, 1, 'LOG_LEVEL=debug wins over log.level: warn')

    const silent = await start({}, { LOG_LEVEL: 'error' })
    await send(silent.gw, '/silent')
    assert.deepEqual(silent.decisions.all, [], 'LOG_LEVEL=error over the default info')
  })

  test('a reload applies a new log.level at once', async () => {
    const { gw, decisions, write } = await start({})
    write({ log: { level: 'error' } })
    assert.equal(await gw.reload(), true)
    await send(gw, '/after')
    assert.deepEqual(decisions.all, [])
  })

  test('LOG_LEVEL that is not a level stops the start, naming it', async () => {
    await assert.rejects(start({}, { LOG_LEVEL: 'verbose' }), (err: unknown) => {
      assert.ok(err instanceof ConfigError)
      assert.match(err.message, /LOG_LEVEL: expected one of debug, info, warn, error, got "verbose"/)
      return true
    })
  })

  test('log.format: pretty writes one short human line per event', async () => {
    const { gw, decisions } = await start({ log: { format: 'pretty' } })
    await send(gw, '/pretty')
    assert.match(decisions.all[0] ?? '', /^\d\d:\d\d:\d\d\.\d{3} INFO  request request_id=[0-9a-f-]{36} route=open method=GET path=\/pretty status=200 decision=allow reason=ok aauth_level=none /)
  })
})

test('operational lines never carry Authorization, Signature* or Cookie values, wherever headers sit', () => {
  const out = lines()
  const logger = createLogger({ level: 'info', format: 'json' }, out)
  const headers = { authorization: 'AAuth eyJhbGciOi', signature: 'sig=:AAAA:', 'signature-input': 'sig=("@method")', 'signature-key': 'sig=jwt;jwt="eyJ"', cookie: 'c=1', accept: 'text/plain' }
  const err = Object.assign(new Error('boom'), { headers: { ...headers } })
  logger.error({ req: { headers: { ...headers } }, headers: { ...headers }, err }, 'oops')
  const line = out.all.join('')
  for (const secret of ['eyJ', 'AAAA', '@method', 'c=1']) assert.ok(!line.includes(secret), `${secret} in ${line}`)
  assert.equal((out.parsed()[0]?.headers as Record<string, string>).accept, 'text/plain', 'other headers stay')
})

import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { after, before, describe, test } from 'node:test'
import { stringify } from 'yaml'

// Tests run from the repository root (npm test).
const BIN = resolve('bin/aauth-gateway.js')

interface Run {
  code: number | null
  signal: NodeJS.Signals | null
  stdout: string
  /** stderr, one parsed JSON object per line (the test fails on a line that is not JSON). */
  lines: Record<string, unknown>[]
}

/** Runs `aauth-gateway serve` with `config`; SIGTERM once `until` holds for what it logged (or it exits by itself). */
function serve(dir: string, config: Record<string, unknown>, env: NodeJS.ProcessEnv, until?: (lines: Record<string, unknown>[]) => boolean): Promise<Run> {
  const file = join(dir, `gateway-${Math.random().toString(36).slice(2)}.yaml`)
  writeFileSync(file, stringify({ resource: { issuer: 'https://api.test' }, ...config }))
  const child = spawn(process.execPath, [BIN, 'serve', '--config', file], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, LOG_LEVEL: '', ...env } })
  let stdout = ''
  let stderr = ''
  let stopped = false
  const parsed = (): Record<string, unknown>[] =>
    stderr.split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as Record<string, unknown>)
  child.stdout.on('data', (c: Buffer) => (stdout += c.toString()))
  child.stderr.on('data', (c: Buffer) => {
    stderr += c.toString()
    if (until !== undefined && !stopped && stderr.endsWith('\n') && until(parsed())) stopped = child.kill('SIGTERM')
  })
  const killer = setTimeout(() => child.kill('SIGKILL'), 15_000)
  return new Promise((done) =>
    child.once('close', (code, signal) => {
      clearTimeout(killer)
      done({ code, signal, stdout, lines: parsed() })
    }),
  )
}

function listenOn(): Promise<Server> {
  const server = createServer()
  return new Promise((r) => server.listen(0, '127.0.0.1', () => r(server)))
}

describe('serve: operational lines are JSON on stderr', () => {
  let dir: string
  let taken: Server
  let port: number
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'aauth-serve-logs-'))
    taken = await listenOn()
    port = (taken.address() as AddressInfo).port
  })
  after(() => {
    taken.close()
    rmSync(dir, { recursive: true, force: true })
  })

  test('start, drain and stop are info lines with time and msg; decision lines stay on stdout', async () => {
    const run = await serve(dir, { listen: '127.0.0.1:0', admin: '127.0.0.1:0' }, {}, (lines) => lines.some((l) => String(l.msg).startsWith('proxy on')))
    assert.equal(run.code, 0, `${run.signal}: ${JSON.stringify(run.lines)}`)
    const started = run.lines.find((l) => String(l.msg).startsWith('proxy on '))
    assert.ok(started, JSON.stringify(run.lines))
    assert.equal(started.level, 'info')
    assert.match(String(started.time), /^\d{4}-\d\d-\d\dT/)
    assert.match(String(started.proxy_url), /^http:\/\/127\.0\.0\.1:\d+$/)
    assert.deepEqual(
      run.lines.map((l) => l.msg).filter((m) => m === 'draining' || m === 'stopped'),
      ['draining', 'stopped'],
    )
    assert.equal(run.stdout, '', 'no request, no decision line')
  })

  test('a listen port in use names the `listen` key, as an error line, and exits 1', async () => {
    const run = await serve(dir, { listen: `127.0.0.1:${port}`, admin: '127.0.0.1:0' }, {})
    assert.equal(run.code, 1)
    const line = run.lines.find((l) => l.level === 'error')
    assert.ok(line, JSON.stringify(run.lines))
    assert.match(String(line.msg), new RegExp(`listen: 127\\.0\\.0\\.1:${port} is already in use by another process; change \`listen\``))
  })

  test('an admin port in use names the `admin` key', async () => {
    const run = await serve(dir, { listen: '127.0.0.1:0', admin: `127.0.0.1:${port}` }, {})
    assert.equal(run.code, 1)
    assert.match(String(run.lines.find((l) => l.level === 'error')?.msg), new RegExp(`admin: 127\\.0\\.0\\.1:${port} is already in use`))
  })

  test('LOG_LEVEL=warn leaves out the info lines; errors still come', async () => {
    const run = await serve(dir, { listen: `127.0.0.1:${port}`, admin: '127.0.0.1:0' }, { LOG_LEVEL: 'warn' })
    assert.equal(run.code, 1)
    assert.deepEqual(run.lines.map((l) => l.level), ['error'])
  })
})

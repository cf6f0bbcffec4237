import assert from 'node:assert/strict'
import { execFileSync, spawn, type ChildProcess } from 'node:child_process'
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { after, describe, test } from 'node:test'
import { closedPort } from '../helpers/ports.js'

/**
 * The README quick start, run as written: the commands are read out of its first `sh` block, so
 * this test breaks when the README drifts. They run in a copy of the repository (the files git
 * tracks or would track, as in the working tree: a clone that includes uncommitted edits), with
 * this checkout's node_modules linked in place of `npm ci`. The one change: the fixed ports
 * (8080, 9091, 3000, 8700, 8701) are swapped for free ones in the copy's config, policy,
 * package.json and the commands alike (and `agent-server` and `person-server` are given `--listen`
 * on their free ports, the person server the agent server's too), so the test cannot collide with
 * anything else on the machine. The copy has no `.aauth/` (git ignores it): `npm start` writes
 * the resource key there, as on a fresh clone.
 */

const ROOT = resolve('.')
const PORTS = ['8080', '9091', '3000', '8700', '8701'] as const

function quickStartCommands(readme: string): string[] {
  const section = readme.split(/^## Quick start$/m)[1]
  assert.ok(section !== undefined, 'README has a "## Quick start" section')
  const block = /```sh\n([\s\S]*?)```/.exec(section)?.[1]
  assert.ok(block !== undefined, 'the quick start has an sh code block')
  return block
    .split('\n')
    .map((line) => line.replace(/\s+#.*$/, '').trim())
    .filter((line) => line !== '')
}

const freePort = async (): Promise<string> => String(await closedPort())

interface Shell {
  child: ChildProcess
  out: string
  err: string
  exited: Promise<number | null>
}

function shell(command: string, cwd: string): Shell {
  // A process group of its own, so `npm start` and the node it runs stop together.
  const child = spawn('sh', ['-c', command], { cwd, detached: true, stdio: ['ignore', 'pipe', 'pipe'] })
  const s: Shell = { child, out: '', err: '', exited: new Promise((r) => child.once('close', (code) => r(code))) }
  child.stdout?.on('data', (c: Buffer) => (s.out += c.toString()))
  child.stderr?.on('data', (c: Buffer) => (s.err += c.toString()))
  return s
}

async function waitFor(s: Shell, pattern: RegExp, what: string): Promise<void> {
  let ended = false
  void s.exited.then(() => (ended = true))
  while (!pattern.test(s.out + s.err)) {
    if (ended) assert.fail(`${what} ended before printing ${pattern}:\n${s.out}\n${s.err}`)
    await new Promise((r) => setTimeout(r, 100))
  }
}

describe('the README quick start, as written', () => {
  const dir = mkdtempSync(join(tmpdir(), 'aauth-quickstart-'))
  const servers: Shell[] = []
  after(async () => {
    for (const s of servers) {
      try {
        process.kill(-(s.child.pid ?? 0), 'SIGTERM')
      } catch {
        // already gone
      }
      await s.exited
    }
    rmSync(dir, { recursive: true, force: true })
  })

  test('agent and person servers, an identified request (200), a denied one (403), a challenge explained (401), a step-up (200)', { timeout: 600_000 }, async () => {
    const files = execFileSync('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], { cwd: ROOT, encoding: 'utf8' })
      .split('\0')
      .filter((f) => f !== '' && !f.startsWith('node_modules/'))
    for (const f of files) {
      mkdirSync(dirname(join(dir, f)), { recursive: true })
      try {
        copyFileSync(join(ROOT, f), join(dir, f))
      } catch {
        // deleted in the working tree but not yet in git's index
      }
    }
    symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'))
    const ports = new Map<string, string>()
    for (const p of PORTS) ports.set(p, await freePort())
    const swap = (text: string): string => text.replace(/\b(8080|9091|3000|8700|8701)\b/g, (p) => ports.get(p) ?? p)
    for (const f of ['config/gateway.yaml', 'policies/data-access.yaml', 'package.json']) {
      writeFileSync(join(dir, f), swap(readFileSync(join(dir, f), 'utf8')))
    }

    const commands = quickStartCommands(readFileSync(join(ROOT, 'README.md'), 'utf8')).map(swap)
    assert.equal(commands.length, 7, `seven commands in the quick start:\n${commands.join('\n')}`)
    const [start, agentServer, personServer, identified, denied, challenged, stepUp] = commands as [
      string, string, string, string, string, string, string,
    ]

    // `npm ci` is this checkout's node_modules, linked above.
    assert.match(start, /^npm ci && npm start$/)
    const gateway = shell('npm start', dir)
    servers.push(gateway)
    await waitFor(gateway, /proxy on http:\/\//, 'npm start')

    // Its default --listen is 127.0.0.1:8700, which no text in the copy names: say the free port.
    assert.match(agentServer, /^npx aauth-gateway agent-server$/)
    const agent = shell(`${agentServer} --listen 127.0.0.1:${ports.get('8700')}`, dir)
    servers.push(agent)
    await waitFor(agent, /insecure_issuers/, 'agent-server')
    const issuer = `http://127.0.0.1:${ports.get('8700')}`
    assert.match(agent.out, new RegExp(`issuer ${issuer}`))

    // Its defaults, --listen 127.0.0.1:8701 and --agent-server http://127.0.0.1:8700, are the fixed ports.
    assert.match(personServer, /^npx aauth-gateway person-server$/)
    const personIssuer = `http://127.0.0.1:${ports.get('8701')}`
    const person = shell(`${personServer} --listen 127.0.0.1:${ports.get('8701')} --agent-server ${issuer}`, dir)
    servers.push(person)
    await waitFor(person, /insecure_issuers/, 'person-server')
    assert.match(person.out, new RegExp(`issuer ${personIssuer}`))

    const ok = shell(identified, dir)
    assert.equal(await ok.exited, 0, ok.err)
    assert.match(ok.out, /^HTTP\/1\.1 200 OK\n/)
    const echoed = JSON.parse(ok.out.split('\n\n')[1] ?? '') as { headers: Record<string, string> }
    assert.equal(echoed.headers['x-aauth-level'], 'identified')
    assert.equal(echoed.headers['x-aauth-agent'], issuer)
    assert.equal(echoed.headers['x-aauth-agent-delegate'], 'cli-delegate')

    const no = shell(denied, dir)
    assert.equal(await no.exited, 1)
    assert.match(no.out, /^HTTP\/1\.1 403 Forbidden\n/)
    assert.match(no.out, /"policy":"data-access"/)
    assert.match(no.out, /revoked-/)

    const who = shell(challenged, dir)
    assert.equal(await who.exited, 1)
    assert.match(who.out, /^HTTP\/1\.1 401 Unauthorized\n/)
    assert.match(who.out, /^aauth-requirement: requirement=agent-token$/m)
    assert.match(who.err, /add --agent-server/)

    const up = shell(stepUp, dir)
    assert.equal(await up.exited, 0, up.err)
    assert.match(up.err, /^step-up: 401 requirement=person-token .* -> person token; sending again with it$/m)
    assert.match(up.err, /^step-up: 401 requirement=auth-token, resource token for scope 'records\.read' .* -> auth token; sending again with it$/m)
    assert.match(up.out, /^HTTP\/1\.1 200 OK\n/)
    const stepped = JSON.parse(up.out.split('\n\n')[1] ?? '') as { headers: Record<string, string> }
    assert.equal(stepped.headers['x-aauth-level'], 'authorized')
    assert.equal(stepped.headers['x-aauth-scope'], 'records.read')
    assert.equal(stepped.headers['x-aauth-user-issuer'], personIssuer)
  })
})

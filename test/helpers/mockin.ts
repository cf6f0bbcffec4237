import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { createRequire } from 'node:module'
import { closedPort } from './ports.js'

/**
 * `@hellocoop/mockin` v2 (npm; a devDependency), a mock AAuth Person Server written outside this
 * project: `/.well-known/aauth-person.json`, `person_token_endpoint`, `auth_token_endpoint`,
 * consent auto-approved.
 *
 * How it is started: as a child process, `node <node_modules>/@hellocoop/mockin/src/server.js`,
 * with `PORT` (a free loopback port picked first), `IP=127.0.0.1` and `ISSUER=http://127.0.0.1:PORT`
 * in its environment: mockin reads them once at import to name itself, so the port must be known
 * before it starts and one process serves one test file. We wait for its "Mock server listening"
 * line. It runs on Node 20 although its `engines` says `~22`.
 *
 * What it trusts: any agent server. It verifies an agent token by fetching
 * `{iss}/.well-known/{dwk}` (issuer byte-equal) and that document's `jwks_uri` with the global
 * `fetch`, with no allowlist and no https requirement, so a loopback http agent server works.
 * It accepts an http loopback resource identifier (with port), fetches the resource's
 * `/.well-known/aauth-resource.json` and JWKS the same way to verify resource tokens, and its mock
 * API `PUT /mock/aauth` changes its behaviour (errors, deferral, token lifetime ...).
 */
export interface Mockin {
  /** `http://127.0.0.1:PORT`: its issuer identifier. */
  readonly origin: string
  /** `PUT /mock/aauth`: merges `patch` into the mock's AAuth behaviour. */
  configure(patch: Record<string, unknown>): Promise<void>
  /** Everything it wrote to stdout and stderr, for failure messages. */
  output(): string
  close(): Promise<void>
}

const READY = 'Mock server listening'

export async function startMockin(timeoutMs = 15_000): Promise<Mockin> {
  const server = createRequire(import.meta.url).resolve('@hellocoop/mockin/src/server.js')
  const port = await closedPort()
  const origin = `http://127.0.0.1:${port}`
  const child = spawn(process.execPath, ['--no-warnings', server], {
    env: { ...process.env, PORT: String(port), IP: '127.0.0.1', ISSUER: origin },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let log = ''
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => fail(new Error(`mockin did not start in ${timeoutMs} ms:\n${log}`)), timeoutMs)
    const onData = (chunk: Buffer): void => {
      log += chunk.toString()
      if (log.includes(READY)) {
        clearTimeout(timer)
        child.off('exit', onExit)
        resolve()
      }
    }
    const onExit = (code: number | null): void => fail(new Error(`mockin exited (${code}) before listening:\n${log}`))
    const fail = (err: Error): void => {
      clearTimeout(timer)
      child.kill()
      reject(err)
    }
    child.stdout.on('data', onData)
    child.stderr.on('data', onData)
    child.once('exit', onExit)
  })

  return {
    origin,
    output: () => log,
    async configure(patch) {
      const res = await fetch(`${origin}/mock/aauth`, {
        method: 'PUT',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(patch),
      })
      if (!res.ok) throw new Error(`PUT /mock/aauth answered ${res.status}: ${await res.text()}`)
    },
    async close() {
      if (child.exitCode !== null || child.signalCode !== null) return
      const exited = once(child, 'exit')
      child.kill('SIGTERM')
      await exited
    },
  }
}

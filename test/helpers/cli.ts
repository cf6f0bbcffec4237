import { spawn, type ChildProcess } from 'node:child_process'
import { resolve } from 'node:path'

// Tests run from the repository root (npm test).
export const BIN = resolve('bin/aauth-gateway.js')

export interface Run {
  code: number | null
  stdout: string
  stderr: string
}

export interface CliOptions {
  cwd?: string
  env?: NodeJS.ProcessEnv
}

/** Runs `aauth-gateway ...args` to its end (asynchronously: a gateway in this process keeps serving). */
export function cli(args: readonly string[], options: CliOptions = {}): Promise<Run> {
  return startCli(args, options).exited
}

export interface RunningCli {
  readonly child: ChildProcess
  stdout(): string
  stderr(): string
  /** Resolves with the first match of `pattern` in stdout; rejects when the process ends first. */
  waitFor(pattern: RegExp): Promise<RegExpMatchArray>
  /** Resolves when the process ends, with its output. */
  readonly exited: Promise<Run>
  /** SIGTERM, then the end. */
  stop(): Promise<Run>
}

/** Starts `aauth-gateway ...args` (e.g. a server) and keeps it running. */
export function startCli(args: readonly string[], options: CliOptions = {}): RunningCli {
  const child = spawn(process.execPath, [BIN, ...args], { cwd: options.cwd, env: options.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] })
  let stdout = ''
  let stderr = ''
  const waiters = new Set<() => void>()
  child.stdout?.on('data', (c: Buffer) => {
    stdout += c.toString()
    for (const w of waiters) w()
  })
  child.stderr?.on('data', (c: Buffer) => (stderr += c.toString()))
  const exited = new Promise<Run>((done) => child.once('close', (code) => done({ code, stdout, stderr })))
  let ended = false
  void exited.then(() => {
    ended = true
    for (const w of waiters) w()
  })
  return {
    child,
    stdout: () => stdout,
    stderr: () => stderr,
    exited,
    waitFor: (pattern) =>
      new Promise((resolveMatch, reject) => {
        const check = (): void => {
          const m = pattern.exec(stdout)
          if (m !== null) {
            waiters.delete(check)
            resolveMatch(m)
          } else if (ended) {
            waiters.delete(check)
            reject(new Error(`the process ended before printing ${pattern}:\n${stdout}\n${stderr}`))
          }
        }
        waiters.add(check)
        check()
      }),
    stop: () => {
      if (!ended) child.kill('SIGTERM')
      return exited
    },
  }
}

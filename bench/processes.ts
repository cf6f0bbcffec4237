import { execFileSync, fork, spawn } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { startService, type Service, type ServiceKind } from './servers.js'

/** Where a service runs: each in its own Node process (the default), or in the bench's own. */
export type Placement = 'child' | 'in-process'

const CHILD = fileURLToPath(new URL('./child.js', import.meta.url))

/** `execArgv` are extra Node flags for a child (e.g. `--cpu-prof`). */
export function launch(kind: ServiceKind, arg: string, placement: Placement, execArgv: readonly string[] = []): Promise<Service> {
  return placement === 'child' ? spawnService(kind, arg, execArgv) : startService(kind, arg)
}

function spawnService(kind: ServiceKind, arg: string, execArgv: readonly string[]): Promise<Service> {
  const child = fork(CHILD, [kind, arg], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'], execArgv: [...process.execArgv, ...execArgv] })
  return new Promise((resolve, reject) => {
    const failed = (code: number | null): void => reject(new Error(`${kind} child exited (code ${code}) before it listened`))
    child.once('exit', failed)
    child.once('error', reject)
    child.once('message', (msg: { url: string }) => {
      child.off('exit', failed)
      resolve({
        url: msg.url,
        rssBytes: () =>
          new Promise((answer) => {
            const onMessage = (m: { rss?: number }): void => {
              if (m.rss === undefined) return
              child.off('message', onMessage)
              answer(m.rss)
            }
            child.on('message', onMessage)
            child.send('rss')
          }),
        cpuMicros: () =>
          new Promise((answer) => {
            child.once('message', (m: { cpu: number }) => answer(m.cpu))
            child.send('cpu')
          }),
        close: () =>
          new Promise((r) => {
            if (child.exitCode !== null) return r()
            child.once('exit', () => r())
            child.disconnect()
          }),
      })
    })
  })
}

const BIN = fileURLToPath(new URL('../../bin/aauth-gateway.js', import.meta.url))

/**
 * `aauth-gateway serve --config FILE` as users run it: with `workers` > 1 in the config, a
 * cluster primary and its workers (docs/scaling.md). Decision lines go to /dev/null, as in the
 * other gateway rows. Its CPU time is that of the primary and every worker (Linux `/proc`).
 */
export function launchServe(configFile: string, execArgv: readonly string[] = [], bin = BIN): Promise<Service & { adminUrl: string; pid: number }> {
  const child = spawn(process.execPath, [...execArgv, bin, 'serve', '--config', configFile], { stdio: ['ignore', 'ignore', 'pipe'] })
  let err = ''
  let listening = false
  return new Promise((resolve, reject) => {
    const failed = (code: number | null): void => reject(new Error(`serve exited (code ${code}) before it listened:\n${err}`))
    child.once('exit', failed)
    child.stderr?.on('data', (c: Buffer) => {
      err += c.toString()
      const m = /proxy on (\S+), admin on (\S+)/.exec(err)
      if (m === null || listening) return
      listening = true
      child.off('exit', failed)
      resolve({
        url: m[1] as string,
        adminUrl: m[2] as string,
        pid: child.pid ?? 0,
        cpuMicros: async () => processTreeCpuMicros(child.pid ?? 0),
        close: () =>
          new Promise((r) => {
            if (child.exitCode !== null) return r()
            child.once('exit', () => r())
            child.kill('SIGTERM')
          }),
      })
    })
  })
}

/** Clock ticks per second of `/proc/<pid>/stat` times. */
let ticksPerSecond: number | undefined

/** User + system CPU µs of `pid` and its children (Linux); 0 elsewhere. */
function processTreeCpuMicros(pid: number): number {
  ticksPerSecond ??= Number(execFileSync('getconf', ['CLK_TCK']).toString().trim()) || 100
  const ticks = (p: number): number => {
    try {
      // Fields after the command name, which ends at the last ')': utime and stime are 12th and 13th.
      const stat = readFileSync(`/proc/${p}/stat`, 'utf8')
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
      return Number(fields[11]) + Number(fields[12])
    } catch {
      return 0
    }
  }
  let children: number[] = []
  try {
    children = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number)
  } catch {
    children = []
  }
  const total = [pid, ...children].reduce((sum, p) => sum + ticks(p), 0)
  return (total / ticksPerSecond) * 1e6
}

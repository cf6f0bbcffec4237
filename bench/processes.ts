import { fork } from 'node:child_process'
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

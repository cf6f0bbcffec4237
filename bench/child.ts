import { startService, type ServiceKind } from './servers.js'

/**
 * Child-process entry (forked by `bench/processes.ts`): starts one service, reports its URL to
 * the parent over IPC, answers `'cpu'` with its CPU time, and exits when the parent disconnects
 * or dies.
 */
const KINDS: readonly string[] = ['backend', 'proxy', 'forward', 'forward-verify', 'gateway'] satisfies ServiceKind[]
const [kind = '', arg = ''] = process.argv.slice(2)
if (!KINDS.includes(kind)) throw new Error(`bench child: unknown service ${kind}`)
const service = await startService(kind as ServiceKind, arg)
process.send?.({ url: service.url })
process.on('message', (msg) => {
  if (msg === 'rss') {
    // After a full collection when exposed (`--expose-gc`), so garbage is not counted as growth.
    ;(globalThis as { gc?: () => void }).gc?.()
    process.send?.({ rss: process.memoryUsage().rss })
  }
  if (msg !== 'cpu') return
  const { user, system } = process.cpuUsage()
  process.send?.({ cpu: user + system })
})
process.on('disconnect', () => {
  void service.close().finally(() => process.exit(0))
})

import { IpcStateStore } from '../src/store/ipc-client.js'

/**
 * Child of `bench/ipc.ts`: plays a worker. Each `run` message asks for `rounds` rounds of
 * `batch` replay `remember` operations started in one event-loop turn (as `batch` requests
 * arriving together would), each round awaited before the next; it answers with the wall time
 * and its own CPU time.
 */
interface Run {
  bench: 'run'
  batch: number
  rounds: number
}

if (process.send !== undefined) {
  const store = new IpcStateStore()
  let serial = 0
  process.on('message', (message: unknown) => {
    if ((message as { bench?: unknown }).bench !== 'run') return
    const { batch, rounds } = message as Run
    void (async () => {
      const cpu = process.cpuUsage()
      const t0 = performance.now()
      for (let r = 0; r < rounds; r++) {
        const ops: Promise<unknown>[] = []
        for (let i = 0; i < batch; i++) ops.push(Promise.resolve(store.replay.remember(`bench-key-${serial++}`, 120)))
        await Promise.all(ops)
      }
      const { user, system } = process.cpuUsage(cpu)
      process.send?.({ bench: 'done', ms: performance.now() - t0, cpuMicros: user + system })
    })()
  })
  process.on('disconnect', () => void store.close())
}

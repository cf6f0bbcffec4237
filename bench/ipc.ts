import { fork, type ChildProcess } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { MemoryKeyStore } from '../src/replay/store.js'
import { serveStateStore } from '../src/store/ipc-server.js'
import { STORE_CHANNEL_FD } from '../src/store/ipc-client.js'
import type { Duplex } from 'node:stream'
import type { StateStore } from '../src/store/types.js'

/**
 * `node dist/bench/ipc.js`: what the memory store costs a worker when it lives in the cluster
 * primary (docs/scaling.md "Shared state"). This process plays the primary (a MemoryKeyStore
 * behind `serveStateStore`), a forked child plays a worker (`IpcStateStore`). For batches of 1
 * to 256 operations started in one turn it prints the wall time per operation and the CPU time
 * per operation on each side, next to the same `remember` called in-process.
 */
const CHILD = fileURLToPath(new URL('./ipc-child.js', import.meta.url))
const OPERATIONS = 200_000
const BATCHES = [1, 8, 32, 128, 256]

function primaryStore(): StateStore {
  return {
    replay: new MemoryKeyStore({ maxEntries: 2 * OPERATIONS * (BATCHES.length + 1) }),
    revoked: new MemoryKeyStore({ maxEntries: 10 }),
    rates: { hit: () => ({ allowed: true, remaining: 0, resetSeconds: 1 }) },
    up: true,
    close: async () => undefined,
  }
}

function run(child: ChildProcess, batch: number, rounds: number): Promise<{ ms: number; cpuMicros: number }> {
  return new Promise((resolve) => {
    const onMessage = (m: { bench?: string; ms: number; cpuMicros: number }): void => {
      if (m.bench !== 'done') return
      child.off('message', onMessage)
      resolve(m)
    }
    child.on('message', onMessage)
    child.send({ bench: 'run', batch, rounds })
  })
}

function inProcessMicros(): number {
  const store = new MemoryKeyStore({ maxEntries: OPERATIONS })
  const t0 = performance.now()
  for (let i = 0; i < OPERATIONS; i++) store.remember(`local-${i}`, 120)
  return ((performance.now() - t0) * 1000) / OPERATIONS
}

async function main(): Promise<void> {
  const child = fork(CHILD, [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc', 'pipe'] })
  let messages = 0
  serveStateStore(primaryStore(), child.stdio[STORE_CHANNEL_FD] as Duplex, () => messages++)
  await run(child, 32, 2000) // warm-up: JIT on both sides
  console.log(`memory store over IPC: ${OPERATIONS} replay remember operations per row, node ${process.version}`)
  console.log(`in-process MemoryKeyStore.remember: ${inProcessMicros().toFixed(2)} µs/op`)
  console.log('batch  messages  wall µs/op  worker cpu µs/op  primary cpu µs/op')
  for (const batch of BATCHES) {
    const rounds = Math.ceil(OPERATIONS / batch)
    messages = 0
    const primaryCpu = process.cpuUsage()
    const { ms, cpuMicros } = await run(child, batch, rounds)
    const { user, system } = process.cpuUsage(primaryCpu)
    const ops = rounds * batch
    console.log(
      [String(batch).padStart(5), String(messages).padStart(8), ((ms * 1000) / ops).toFixed(2).padStart(10), (cpuMicros / ops).toFixed(2).padStart(16), ((user + system) / ops).toFixed(2).padStart(17)].join('  '),
    )
  }
  child.disconnect()
}

void main()

import cluster from 'node:cluster'
import { ConfigError } from '../errors.js'
import { startGateway, type RunningGateway } from '../gateway.js'
import { loadConfigFile } from '../config/load.js'
import { IpcStateStore } from '../store/ipc-client.js'
import { answerMetricsRequests } from './scrape.js'

/** Bytes POSIX guarantees a pipe write is not interleaved with another process's (Linux). */

/**
 * One cluster worker of `aauth-gateway serve` with `workers` > 1 (docs/scaling.md): a whole
 * gateway on the shared proxy listener (Node's cluster hands it connections round-robin), with
 *  - no admin listener: the primary serves one for all workers and asks each for its metrics;
 *  - the replay entries and revocations in the primary, reached over IPC (src/store/ipc-client.ts),
 *    so a request replayed to another worker is still refused;
 *  - its pid as `worker` on every decision line, written in whole lines of at most PIPE_BUF bytes
 *    so lines of several workers on the one stdout never cut into each other;
 *  - SIGHUP reloading and SIGTERM/SIGINT draining as a single process does (docs/operations.md);
 *    the primary forwards both.
 * Resolves the exit code once drained; the primary starts another worker if one exits otherwise.
 */
export async function runWorker(configFile: string): Promise<number> {
  // Signals first: the primary may forward one while this worker is still starting, and a
  // signal without a handler would kill it.
  let gateway: RunningGateway | undefined
  let stopRequested = false
  let drain: (() => void) | undefined
  const stop = (): void => {
    stopRequested = true
    drain?.()
  }
  process.on('SIGHUP', () => void gateway?.reload())
  // Not `once`: a Ctrl-C reaches the whole process group, then the primary forwards a SIGTERM;
  // the second signal must not kill a worker that is already draining.
  process.on('SIGTERM', stop)
  process.on('SIGINT', stop)

  // With `store: redis` every worker connects to Redis itself; with `memory` the store is the
  // primary's, reached over IPC.
  const store = usesRedis(configFile) ? undefined : new IpcStateStore()
  try {
    gateway = await startGateway({ configFile, watch: true, admin: false, store, decisionFields: { worker: process.pid } })
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err
    process.stderr.write(`${err.message}\n`)
    await store?.close()
    return 1
  }
  const g = gateway
  const stopAnswering = answerMetricsRequests(g.metrics.registry)
  return new Promise((resolve) => {
    let draining = false
    drain = (): void => {
      if (draining) return
      draining = true
      void g
        .drain(g.snapshot().resource.limits.drain_timeout)
        .then(async () => {
          stopAnswering()
          await store?.close()
          // Closing the IPC channel is what lets the process end; the primary sees a planned exit.
          cluster.worker?.disconnect()
        })
        .then(() => resolve(0))
    }
    if (stopRequested) drain()
  })
}

/** Whether the config names a Redis store; the primary validated the config before forking. */
function usesRedis(configFile: string): boolean {
  try {
    return loadConfigFile(configFile).config.store.type === 'redis'
  } catch {
    return false
  }
}

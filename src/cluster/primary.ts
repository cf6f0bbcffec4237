import cluster, { type Address as ClusterAddress, type Worker } from 'node:cluster'
import type { Server } from 'node:http'
import { Socket, type AddressInfo } from 'node:net'
import { createAdminServer } from '../admin/server.js'
import type { Address, Snapshot } from '../config/compile.js'
import { loadConfigFile } from '../config/load.js'
import { ClusterMetrics } from '../metrics/metrics.js'
import { MemoryStateStore } from '../store/memory.js'
import { serveStateStore } from '../store/ipc-server.js'
import { STORE_CHANNEL_FD } from '../store/ipc-client.js'
import type { StateStore } from '../store/types.js'
import { RestartBackoff } from './backoff.js'
import { redistributeOnDeath } from './handoff.js'
import { clusterMetricsSource } from './scrape.js'

/** Seconds the primary waits past `limits.drain_timeout` before it kills a worker that has not exited. */
const DRAIN_GRACE_SECONDS = 10

export interface PrimaryOptions {
  configFile: string
  /** The config as validated at start: worker count, admin address and store bounds come from it. */
  snapshot: Snapshot
  /** Where the primary's own lines go (default stderr). */
  log?: (message: string) => void
}

export interface RunningPrimary {
  /** `http://host:port` of the shared proxy listener. */
  readonly url: string
  readonly adminUrl: string
  /** Resolves the exit code: 0 once every worker drained after SIGTERM/SIGINT. */
  readonly done: Promise<number>
}

/** One worker position: the primary keeps `workers` of them filled. */
interface Slot {
  worker: Worker | undefined
  listening: boolean
  startedAt: number
  readonly backoff: RestartBackoff
  restart: NodeJS.Timeout | undefined
}

/**
 * The primary of `aauth-gateway serve` with `workers` > 1 (docs/scaling.md). It serves no
 * proxy requests itself. It
 *  - forks the workers (src/cluster/worker.ts), which share the proxy listener through Node's
 *    cluster module, round-robin (the primary accepts and hands each connection to the next
 *    free worker);
 *  - holds the memory StateStore (replay, revocations, rate counters) and answers the workers'
 *    batched operations on it (src/store/ipc-server.ts);
 *  - starts a worker again when one exits unasked, after a back-off (src/cluster/backoff.ts);
 *  - forwards SIGHUP (reload) and SIGTERM/SIGINT (drain, docs/operations.md) to every worker,
 *    and exits once all have drained;
 *  - serves the one admin listener: `/healthz`, `/readyz` (200 while a worker listens and the
 *    store is up), `/metrics` (every worker's metrics added up, plus its own).
 * Rejects if a worker fails before the first set is listening (the port is taken, or the
 * config changed into one that does not load), after stopping the others.
 */
export async function startPrimary(options: PrimaryOptions): Promise<RunningPrimary> {
  const { configFile, snapshot } = options
  const say = options.log ?? ((message: string) => void process.stderr.write(`aauth-gateway: ${message}\n`))
  const store = memoryStateStore(snapshot)
  const metrics = new ClusterMetrics()
  // Round-robin even where Node would default otherwise (NODE_CLUSTER_SCHED_POLICY): with the
  // kernel choosing, one busy worker tends to take most connections.
  cluster.schedulingPolicy = cluster.SCHED_RR
  // stdio 4 of each worker is its store channel (a socket pair, src/store/ipc-protocol.ts).
  cluster.setupPrimary({ args: ['serve', '--config', configFile], stdio: ['inherit', 'inherit', 'inherit', 'ipc', 'pipe'] })

  const slots: Slot[] = Array.from({ length: snapshot.workers }, () => ({
    worker: undefined,
    listening: false,
    startedAt: 0,
    backoff: new RestartBackoff(),
    restart: undefined,
  }))
  let phase: 'starting' | 'running' | 'draining' = 'starting'
  let proxyUrl = ''
  const live = (): Worker[] => slots.flatMap((s) => (s.worker ? [s.worker] : []))
  const countListening = (): number => slots.filter((s) => s.listening).length

  let startupDone: (error?: Error) => void = () => undefined
  const startup = new Promise<void>((resolve, reject) => {
    startupDone = (error) => (error ? reject(error) : resolve())
  })
  let finish: (code: number) => void = () => undefined
  const done = new Promise<number>((resolve) => (finish = resolve))

  function fork(slot: Slot): void {
    slot.restart = undefined
    const worker = cluster.fork()
    slot.worker = worker
    slot.listening = false
    slot.startedAt = performance.now()
    const channel = worker.process.stdio[STORE_CHANNEL_FD]
    if (!(channel instanceof Socket)) throw new Error('a worker was forked without its store channel')
    const stopServing = serveStateStore(store, channel, (operations) => {
      metrics.storeMessages.inc()
      metrics.storeOperations.inc(operations)
    })
    // A send to a worker that has just died fails here; its exit is handled below.
    worker.on('error', (err: Error) => say(`worker ${worker.process.pid}: ${err.message}`))
    redistributeOnDeath(worker, () => slots.some((s) => s !== slot && s.listening))
    worker.on('listening', (address: ClusterAddress) => {
      slot.listening = true
      metrics.workers.set(countListening())
      proxyUrl ||= `http://${formatAddress(address)}`
      if (phase === 'starting' && countListening() === slots.length) startupDone()
    })
    worker.on('exit', (code: number | null, signal: string | null) => {
      stopServing()
      slot.worker = undefined
      slot.listening = false
      metrics.workers.set(countListening())
      const how = signal ? `signal ${signal}` : `code ${code}`
      if (phase === 'draining') {
        if (code !== 0) say(`worker ${worker.process.pid} exited (${how}) while draining`)
        if (live().length === 0) void closeAll().then(() => finish(killedAtDeadline ? 1 : 0))
        return
      }
      if (phase === 'starting') {
        startupDone(new Error(`worker ${worker.process.pid} exited (${how}) before it was listening`))
        return
      }
      const delay = slot.backoff.next(performance.now() - slot.startedAt)
      metrics.workerRestarts.inc()
      say(`worker ${worker.process.pid} exited (${how}); starting another in ${delay} ms`)
      slot.restart = setTimeout(() => fork(slot), delay)
    })
  }

  let admin: Server | undefined
  let killedAtDeadline = false
  async function closeAll(): Promise<void> {
    if (admin) await new Promise<void>((resolve) => admin?.close(() => resolve()))
    await store.close()
  }

  const drain = (): void => {
    if (phase === 'draining') return
    const wasStarting = phase === 'starting'
    phase = 'draining'
    say('draining')
    for (const slot of slots) clearTimeout(slot.restart)
    const workers = live()
    for (const w of workers) w.process.kill('SIGTERM')
    const deadline = drainTimeout(configFile, snapshot) + DRAIN_GRACE_SECONDS
    setTimeout(() => {
      for (const w of live()) {
        killedAtDeadline = true
        say(`worker ${w.process.pid} still running ${deadline} s after the drain began; killing it`)
        w.process.kill('SIGKILL')
      }
    }, deadline * 1000).unref()
    if (wasStarting) startupDone(new Error('stopped before every worker was listening'))
    if (workers.length === 0) void closeAll().then(() => finish(0))
  }
  const reload = (): void => {
    for (const w of live()) w.process.kill('SIGHUP')
  }
  process.on('SIGTERM', drain)
  process.on('SIGINT', drain)
  process.on('SIGHUP', reload)

  for (const slot of slots) fork(slot)
  try {
    await startup
    phase = 'running'
    // The store hook: once the store can be remote (`store: redis`), readiness follows it too.
    admin = createAdminServer(clusterMetricsSource(live, metrics.registry), () => phase === 'running' && countListening() > 0 && store.up)
    const adminAddress = await listen(admin, snapshot.admin)
    return { url: proxyUrl, adminUrl: `http://${formatAddress(adminAddress)}`, done }
  } catch (err) {
    drain()
    await done
    process.off('SIGTERM', drain)
    process.off('SIGINT', drain)
    process.off('SIGHUP', reload)
    throw err
  }
}

/**
 * The StateStore the primary holds for its workers when the store is `memory`: the same bounded
 * stores a single process keeps (docs/replay-and-revocation.md), once for all workers.
 */
function memoryStateStore(snapshot: Snapshot): StateStore {
  return new MemoryStateStore({
    replayMaxEntries: snapshot.replayMaxEntries,
    revocationMaxEntries: snapshot.resource.signatures.revocation.max_entries,
    revocationMaxPerIssuer: snapshot.resource.signatures.revocation.max_per_issuer,
  })
}

/** `limits.drain_timeout` as the config says now (a reload may have changed it), else as at start. */
function drainTimeout(configFile: string, snapshot: Snapshot): number {
  try {
    return loadConfigFile(configFile).config.limits.drain_timeout
  } catch {
    return snapshot.resource.limits.drain_timeout
  }
}

function listen(server: Server, address: Address): Promise<AddressInfo> {
  return new Promise((resolve, reject) => {
    server.once('error', reject)
    server.listen(address.port, address.host, () => {
      server.off('error', reject)
      resolve(server.address() as AddressInfo)
    })
  })
}

function formatAddress(a: { address: string | null; port: number }): string {
  const host = a.address ?? '0.0.0.0'
  return host.includes(':') ? `[${host}]:${a.port}` : `${host}:${a.port}`
}

import type { Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { Logger } from 'pino'
import { createAdminServer } from './admin/server.js'
import type { Address, Snapshot } from './config/compile.js'
import { ConfigError } from './errors.js'
import { createReloader } from './config/reloader.js'
import { createKeyServices } from './keys/services.js'
import { LoggerDecisionLog, type DecisionLog } from './log/decision.js'
import { GatewayLogs, type LogDestinations } from './log/logger.js'
import { GatewayMetrics } from './metrics/metrics.js'
import { UndiciForwarder } from './proxy/forward.js'
import { createProxyListener } from './proxy/listener.js'
import type { GatewayServices, Lifecycle } from './services.js'
import { createStateStore } from './store/create.js'
import type { StateStore } from './store/types.js'

export interface GatewayOptions {
  /** Path of the YAML config (docs/configuration.md). */
  configFile: string
  env?: NodeJS.ProcessEnv
  /** Where decision lines go; JSON lines on stdout by default (or `logDestinations.decisions`). */
  log?: DecisionLog
  /** Where the loggers write (README "Metrics and logs"): stderr and stdout by default. */
  logDestinations?: LogDestinations
  /** Reload when the config file or a policy file changes (serve does; SIGHUP always works). */
  watch?: boolean
  /**
   * Serve the admin listener (default true). A cluster worker does not: its primary serves one
   * for all workers (docs/scaling.md).
   */
  admin?: boolean
  /**
   * Replay entries and revocations kept outside this process: a cluster worker's IPC client to
   * the primary's memory store (docs/scaling.md). By default, memory stores sized by the config.
   * Its owner closes it.
   */
  store?: StateStore
  /** Members added to every decision line (a cluster worker's `worker: pid`). */
  decisionFields?: Readonly<Record<string, string | number>>
  /** The wall clock in ms for session tokens (`Date.now` by default); tests of expiry inject one. */
  clock?: () => number
}

export interface RunningGateway {
  /** `http://host:port` of the proxy listener, as bound (port 0 resolved). */
  readonly url: string
  /** `http://host:port` of the admin listener; empty when started with `admin: false`. */
  readonly adminUrl: string
  readonly metrics: GatewayMetrics
  /** Operational lines (start, reload, warnings, errors): `serve` logs its own here too. */
  readonly logger: Logger
  snapshot(): Snapshot
  /** Builds a new snapshot; swaps it in if valid, else keeps the old one. Resolves whether it swapped. */
  reload(): Promise<boolean>
  /**
   * Graceful shutdown (docs/operations.md): `/readyz` turns 503 at once, the listener stops
   * accepting, in-flight requests finish for up to `drainSeconds`, then whatever is left is cut
   * (logged and counted with reason `shutdown`) and everything closes.
   */
  drain(drainSeconds: number): Promise<void>
  close(): Promise<void>
}

/**
 * Wires the gateway once: services that outlive snapshots (metrics, caches, the state store,
 * forwarder), the proxy and admin listeners, and the snapshot holder that reloads replace.
 */
export async function startGateway(options: GatewayOptions): Promise<RunningGateway> {
  const env = options.env ?? process.env
  const metrics = new GatewayMetrics()
  const lifecycle: Lifecycle = { draining: false, cutting: false }
  const logs = new GatewayLogs(env, options.logDestinations)
  const reloader = await createReloader({
    configFile: options.configFile,
    env,
    watch: options.watch === true,
    metrics,
    log: logs.ops,
    onSwap: (next) => logs.configure(next.log),
  })
  // Listeners and stores are built from the snapshot at start (keys a reload cannot apply live).
  const current = reloader.current
  logs.configure(current.log)
  const store = options.store ?? await createStateStore(current, {
    onError: (op) => metrics.storeErrors.inc({ op }),
    onUp: (up) => metrics.storeUp.set(up ? 1 : 0),
    onFailOpen: (op) => metrics.storeFailOpen.inc({ op }),
    log: logs.ops,
  })
  const keys = createKeyServices({
    observer: {
      onFetch: (result, kind = 'jwks') => metrics.fetched(result, kind),
      onCache: (result) => metrics.keyCache.inc({ result }),
    },
    onTokenLookup: (result) => metrics.tokenLookup(result),
  })
  metrics.observeSizes({
    caches: () => keys.cacheSizes?.() ?? {},
    stores: () => store.sizes?.() ?? {},
  })
  const services: GatewayServices = {
    metrics,
    store,
    keys,
    log: options.log ?? new LoggerDecisionLog(logs.decisions, options.decisionFields),
    logger: logs.ops,
    lifecycle,
    ...(options.clock === undefined ? {} : { clock: options.clock }),
  }
  const forwarder = new UndiciForwarder()
  const proxy = createProxyListener(reloader, services, forwarder, current.resource.limits)
  let listening = false
  // A store outage takes the instance out of rotation too: its signed requests would get 503.
  const admin = options.admin === false ? undefined : createAdminServer(metrics.registry, () => listening && !lifecycle.draining && store.up)
  let proxyAddr: AddressInfo
  let adminAddr: AddressInfo | undefined
  try {
    proxyAddr = await listen(proxy, current.listen, 'listen', current.file)
    listening = true
    adminAddr = admin && (await listen(admin, current.admin, 'admin', current.file))
  } catch (err) {
    // Nothing may keep the process alive after a failed start: watches, a bound listener.
    reloader.close()
    listening = false
    if (proxy.listening) await closeServer(proxy)
    await forwarder.close()
    if (options.store === undefined) await store.close()
    throw err
  }

  // In-flight requests keep the snapshot they read at arrival; only new ones see the swap.
  return {
    url: `http://${hostForUrl(proxyAddr)}`,
    adminUrl: adminAddr ? `http://${hostForUrl(adminAddr)}` : '',
    metrics,
    logger: logs.ops,
    snapshot: () => reloader.current,
    reload: async () => (await reloader.reload()) !== 'error',
    async drain(drainSeconds: number): Promise<void> {
      lifecycle.draining = true
      reloader.close()
      const closed = new Promise<void>((resolve) => proxy.close(() => resolve()))
      // Connections that finish a response while draining are closed as soon as they idle.
      const sweep = setInterval(() => proxy.closeIdleConnections(), 100)
      proxy.closeIdleConnections()
      let deadline: NodeJS.Timeout | undefined
      const expired = new Promise<void>((resolve) => {
        deadline = setTimeout(resolve, drainSeconds * 1000)
      })
      await Promise.race([closed, expired])
      clearInterval(sweep)
      clearTimeout(deadline)
      lifecycle.cutting = true
      proxy.closeAllConnections()
      await closed
      await shutdown()
    },
    async close(): Promise<void> {
      lifecycle.cutting = true
      await closeServer(proxy)
      await shutdown()
    },
  }

  async function shutdown(): Promise<void> {
    reloader.close()
    listening = false
    if (admin) await closeServer(admin)
    await forwarder.close()
    // A store handed in (a cluster worker's IPC client) is closed by its owner.
    if (options.store === undefined) await store.close()
    services.log.flush?.()
    logs.flush()
  }
}

/** What a listen error means for the operator, by its code (see `listen`). */
const LISTEN_ERRORS: Record<string, string> = {
  EADDRINUSE: 'is already in use by another process',
  EACCES: 'needs privileges this process does not have (ports below 1024)',
  EADDRNOTAVAIL: 'is not an address of this machine',
}

/**
 * Binds a listener; a failure is a ConfigError naming the config key whose address it is
 * (`listen` or `admin`), so `serve` says which setting to change rather than only `EADDRINUSE`.
 */
function listen(server: Server, address: Address, key: 'listen' | 'admin', file: string): Promise<AddressInfo> {
  return new Promise((resolve, reject) => {
    const fail = (err: NodeJS.ErrnoException): void => {
      const where = address.host.includes(':') ? `[${address.host}]:${address.port}` : `${address.host}:${address.port}`
      const why = LISTEN_ERRORS[err.code ?? ''] ?? `cannot be listened on (${err.code ?? err.message})`
      reject(new ConfigError([{ file, line: 0, key, message: `${where} ${why}; change \`${key}\` or stop what holds it` }]))
    }
    server.once('error', fail)
    server.listen(address.port, address.host, () => {
      server.off('error', fail)
      resolve(server.address() as AddressInfo)
    })
  })
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve())
    server.closeAllConnections()
  })
}

function hostForUrl(a: AddressInfo): string {
  return a.family === 'IPv6' ? `[${a.address}]:${a.port}` : `${a.address}:${a.port}`
}

import type { Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { createAdminServer } from './admin/server.js'
import type { Address, Snapshot } from './config/compile.js'
import { createReloader } from './config/reloader.js'
import { createKeyServices } from './keys/services.js'
import { JsonLineLog, type DecisionLog } from './log/decision.js'
import { GatewayMetrics } from './metrics/metrics.js'
import { UndiciForwarder } from './proxy/forward.js'
import { createProxyListener } from './proxy/listener.js'
import { MemoryKeyStore } from './replay/store.js'
import type { GatewayServices, Lifecycle } from './services.js'
import type { StateStore } from './store/types.js'

export interface GatewayOptions {
  /** Path of the YAML config (CONTRACT §3). */
  configFile: string
  env?: NodeJS.ProcessEnv
  /** Where decision lines go; stdout by default. */
  log?: DecisionLog
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
  store?: Pick<StateStore, 'replay' | 'revoked'>
}

export interface RunningGateway {
  /** `http://host:port` of the proxy listener, as bound (port 0 resolved). */
  readonly url: string
  /** `http://host:port` of the admin listener; empty when started with `admin: false`. */
  readonly adminUrl: string
  readonly metrics: GatewayMetrics
  snapshot(): Snapshot
  /** Builds a new snapshot; swaps it in if valid, else keeps the old one. Resolves whether it swapped. */
  reload(): Promise<boolean>
  /**
   * Graceful shutdown (README "Operations"): `/readyz` turns 503 at once, the listener stops
   * accepting, in-flight requests finish for up to `drainSeconds`, then whatever is left is cut
   * (logged and counted with reason `shutdown`) and everything closes.
   */
  drain(drainSeconds: number): Promise<void>
  close(): Promise<void>
}

/**
 * Wires the gateway once: services that outlive snapshots (metrics, caches, replay store,
 * forwarder), the proxy and admin listeners, and the snapshot holder that reloads replace.
 */
export async function startGateway(options: GatewayOptions): Promise<RunningGateway> {
  const metrics = new GatewayMetrics()
  const lifecycle: Lifecycle = { draining: false, cutting: false }
  const reloader = await createReloader({ configFile: options.configFile, env: options.env ?? process.env, watch: options.watch === true, metrics })
  // Listeners and stores are built from the snapshot at start (keys a reload cannot apply live).
  const current = reloader.current
  const services: GatewayServices = {
    metrics,
    replay: options.store?.replay ?? new MemoryKeyStore({ maxEntries: current.replayMaxEntries }),
    revoked:
      options.store?.revoked ??
      new MemoryKeyStore({
        maxEntries: current.resource.signatures.revocation.max_entries,
        maxPerGroup: current.resource.signatures.revocation.max_per_issuer,
      }),
    keys: createKeyServices({
      observer: {
        onFetch: (result) => metrics.jwksFetches.inc({ result }),
        onCache: (result) => metrics.keyCache.inc({ result }),
      },
    }),
    log: options.log ?? new JsonLineLog(process.stdout),
    lifecycle,
  }
  const forwarder = new UndiciForwarder()
  const proxy = createProxyListener(reloader, services, forwarder, current.resource.limits)
  let listening = false
  const admin = options.admin === false ? undefined : createAdminServer(metrics.registry, () => listening && !lifecycle.draining)
  const proxyAddr = await listen(proxy, current.listen)
  listening = true
  const adminAddr = admin && (await listen(admin, current.admin))

  // In-flight requests keep the snapshot they read at arrival; only new ones see the swap.
  return {
    url: `http://${hostForUrl(proxyAddr)}`,
    adminUrl: adminAddr ? `http://${hostForUrl(adminAddr)}` : '',
    metrics,
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
    await services.replay.close?.()
    await services.revoked.close?.()
    services.log.flush?.()
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

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve())
    server.closeAllConnections()
  })
}

function hostForUrl(a: AddressInfo): string {
  return a.family === 'IPv6' ? `[${a.address}]:${a.port}` : `${a.address}:${a.port}`
}

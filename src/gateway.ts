import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { createAdminServer } from './admin/server.js'
import type { Address, Snapshot } from './config/compile.js'
import { createReloader } from './config/reloader.js'
import { createKeyServices } from './keys/services.js'
import { JsonLineLog, type DecisionLog } from './log/decision.js'
import { GatewayMetrics } from './metrics/metrics.js'
import { Forwarder } from './proxy/forward.js'
import { createHandler } from './proxy/handler.js'
import { MemoryKeyStore } from './replay/store.js'
import type { GatewayServices } from './services.js'

export interface GatewayOptions {
  /** Path of the YAML config (CONTRACT §3). */
  configFile: string
  env?: NodeJS.ProcessEnv
  /** Where decision lines go; stdout by default. */
  log?: DecisionLog
  /** Reload when the config file or a policy file changes (serve does; SIGHUP always works). */
  watch?: boolean
}

export interface RunningGateway {
  /** `http://host:port` of the proxy listener, as bound (port 0 resolved). */
  readonly url: string
  readonly adminUrl: string
  readonly metrics: GatewayMetrics
  snapshot(): Snapshot
  /** Builds a new snapshot; swaps it in if valid, else keeps the old one. Resolves whether it swapped. */
  reload(): Promise<boolean>
  close(): Promise<void>
}

/**
 * Wires the gateway once: services that outlive snapshots (metrics, caches, replay store,
 * forwarder), the proxy and admin listeners, and the snapshot holder that reloads replace.
 */
export async function startGateway(options: GatewayOptions): Promise<RunningGateway> {
  const metrics = new GatewayMetrics()
  const reloader = await createReloader({ configFile: options.configFile, env: options.env ?? process.env, watch: options.watch === true, metrics })
  // Listeners and stores are built from the snapshot at start (keys a reload cannot apply live).
  const current = reloader.current
  const services: GatewayServices = {
    metrics,
    replay: new MemoryKeyStore(current.replayMaxEntries),
    revoked: new MemoryKeyStore(100_000),
    keys: createKeyServices({
      observer: {
        onFetch: (result) => metrics.jwksFetches.inc({ result }),
        onCache: (result) => metrics.keyCache.inc({ result }),
      },
    }),
    log: options.log ?? new JsonLineLog(process.stdout),
  }
  const forwarder = new Forwarder()
  const handler = createHandler(reloader, services, forwarder)
  const limits = current.resource.limits
  const proxy = createServer(
    {
      maxHeaderSize: limits.max_header_bytes,
      headersTimeout: limits.header_timeout * 1000,
      requestTimeout: 0,
      keepAliveTimeout: 5000,
    },
    (req, res) => {
      // The handler renders every failure itself; this is the last line against a bug taking
      // the process down with an unhandled rejection.
      handler(req, res).catch((err: unknown) => {
        console.error('aauth-gateway: unhandled error in the request handler', err)
        if (!res.headersSent) res.writeHead(500, { 'content-type': 'application/problem+json', connection: 'close' })
        res.end()
      })
    },
  )
  // A malformed request line or oversized header block never reaches the handler: answer plainly.
  proxy.on('clientError', (err: NodeJS.ErrnoException, socket) => {
    if (!socket.writable) return socket.destroy()
    const status = err.code === 'HPE_HEADER_OVERFLOW' ? 431 : err.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 408 : 400
    socket.end(`HTTP/1.1 ${status} ${status === 431 ? 'Request Header Fields Too Large' : status === 408 ? 'Request Timeout' : 'Bad Request'}\r\nconnection: close\r\ncontent-length: 0\r\n\r\n`)
  })
  let listening = false
  const admin = createAdminServer(metrics, () => listening)
  const proxyAddr = await listen(proxy, current.listen)
  listening = true
  const adminAddr = await listen(admin, current.admin)

  // In-flight requests keep the snapshot they read at arrival; only new ones see the swap.
  return {
    url: `http://${hostForUrl(proxyAddr)}`,
    adminUrl: `http://${hostForUrl(adminAddr)}`,
    metrics,
    snapshot: () => reloader.current,
    reload: async () => (await reloader.reload()) !== 'error',
    async close(): Promise<void> {
      reloader.close()
      listening = false
      await Promise.all([closeServer(proxy), closeServer(admin)])
      forwarder.close()
      await services.replay.close?.()
      await services.revoked.close?.()
      services.log.flush?.()
    },
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

import { pino } from 'pino'
import { Agent, createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { ProxyServer } from 'http-proxy-3'
import { startBackend as startDevBackend } from '../src/devkit/backend.js'
import { startGateway } from '../src/gateway.js'
import { forwardPlusVerify, minimalForward } from './limits.js'

/**
 * The servers the benchmark drives. Each can run in this process or in a child
 * (`bench/child.ts` calls `startService` there), so every row is measured the same way.
 */
export type ServiceKind = 'backend' | 'proxy' | 'forward' | 'forward-verify' | 'gateway'

export interface Service {
  /** `http://127.0.0.1:port` */
  readonly url: string
  /** CPU time (user + system, µs) its process has used; only for a service in its own process. */
  cpuMicros?(): Promise<number>
  /** Resident set size (bytes) of its process after a GC; only for a service in its own process. */
  rssBytes?(): Promise<number>
  close(): Promise<void>
}

/** What the bench says about the decision log, printed with the parameters. */
export const DECISION_LOG_NOTE = 'JSON lines written to /dev/null (serialisation and write cost included)'

/** `arg` is the upstream URL for `proxy`, the config file for `gateway`, unused for `backend`. */
export function startService(kind: ServiceKind, arg: string): Promise<Service> {
  switch (kind) {
    case 'backend':
      return startBackend()
    case 'proxy':
      return startPlainProxy(arg)
    case 'forward':
      return serve(minimalForward(arg), async () => undefined)
    case 'forward-verify':
      return serve(forwardPlusVerify(arg), async () => undefined)
    case 'gateway':
      return startBenchGateway(arg)
  }
}

const BODY = JSON.stringify({ ok: true, items: [1, 2, 3], note: 'bench backend' })

/** A tiny upstream (the developer kit's backend, not recording): the same small JSON body for every request. */
function startBackend(): Promise<Service> {
  return startDevBackend({ reply: BODY, record: false, keepAliveTimeout: 5000 })
}

/**
 * The baseline: `http-proxy-3` with a keep-alive agent sized like the gateway's forwarder, on a
 * server with the gateway's keep-alive timeout, and nothing else.
 */
async function startPlainProxy(upstream: string): Promise<Service> {
  const agent = new Agent({ keepAlive: true, maxSockets: 256, maxFreeSockets: 64 })
  const proxy = new ProxyServer({ agent, xfwd: true })
  proxy.on('error', () => undefined)
  const server = createServer({ keepAliveTimeout: 5000 }, (req, res) => {
    proxy.web(req, res, { target: upstream }, () => {
      if (!res.headersSent) res.writeHead(502)
      res.end()
    })
  })
  return serve(server, async () => {
    proxy.close()
    agent.destroy()
  })
}

async function startBenchGateway(configFile: string): Promise<Service> {
  // Decision lines go through the real logger, into a destination that writes to /dev/null.
  const sink = pino.destination({ dest: '/dev/null', sync: false, maxWrite: 4096 })
  const gw = await startGateway({ configFile, logDestinations: { decisions: sink } })
  return {
    url: gw.url,
    close: async () => {
      await gw.close()
      sink.end()
    },
  }
}

function serve(server: Server, onClose: () => Promise<void>): Promise<Service> {
  return new Promise((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo
      resolve({
        url: `http://127.0.0.1:${port}`,
        close: async () => {
          await new Promise<void>((r) => {
            server.close(() => r())
            server.closeAllConnections()
          })
          await onClose()
        },
      })
    })
  })
}

import { Agent, type ClientRequest, type IncomingMessage } from 'node:http'
import { Readable } from 'node:stream'
import { ProxyServer } from 'http-proxy-3'
import type { CompiledRoute } from '../config/compile.js'
import { LocalReplyError } from '../errors.js'
import type { RequestContext } from '../pipeline/context.js'
import { setIdentityHeaders } from './identity-headers.js'

const SIGNATURE_HEADERS = ['signature', 'signature-input', 'signature-key'] as const

interface InFlight {
  timeoutMs: number
  timedOut: boolean
  onHeaders(status: number): void
}

/**
 * Forwards verified requests with `http-proxy-3` over keep-alive connections. One instance per
 * gateway; per-request state hangs off the request in a WeakMap, so the proxy's event listeners
 * are registered once rather than per request.
 */
export class Forwarder {
  private readonly agent = new Agent({ keepAlive: true, maxSockets: 256, maxFreeSockets: 64 })
  private readonly proxy = new ProxyServer({ agent: this.agent, xfwd: false, changeOrigin: false })
  private readonly inFlight = new WeakMap<IncomingMessage, InFlight>()

  constructor() {
    this.proxy.on('proxyReq', (proxyReq: ClientRequest, req: IncomingMessage) => {
      const state = this.inFlight.get(req)
      if (!state) return
      // Inactivity timeout: a backend that stops answering is a 504, not a hung client.
      proxyReq.setTimeout(state.timeoutMs, () => {
        state.timedOut = true
        proxyReq.destroy()
      })
    })
    this.proxy.on('proxyRes', (proxyRes: IncomingMessage, req: IncomingMessage) => {
      this.inFlight.get(req)?.onHeaders(proxyRes.statusCode ?? 502)
    })
    // Errors are reported per request through the `web` callback; this keeps a stray one quiet.
    this.proxy.on('error', () => undefined)
  }

  /**
   * Sends the request upstream. Resolves when the upstream answered with headers (the body then
   * streams through byte for byte); rejects with a 502/504 `LocalReplyError` when it did not.
   */
  forward(ctx: RequestContext, route: CompiledRoute): Promise<number> {
    const { req, res } = ctx
    prepareHeaders(ctx, route)
    return new Promise((resolve, reject) => {
      const state: InFlight = { timeoutMs: route.timeoutMs, timedOut: false, onHeaders: resolve }
      this.inFlight.set(req, state)
      this.proxy.web(
        req,
        res,
        {
          target: route.upstream,
          buffer: ctx.body === undefined ? undefined : Readable.from([ctx.body]),
        },
        (err: NodeJS.ErrnoException) => {
          reject(
            state.timedOut
              ? new LocalReplyError('upstream_timeout', `upstream did not answer within ${route.timeoutMs / 1000} s`)
              : new LocalReplyError('upstream_unreachable', `upstream unreachable (${err.code ?? 'error'})`),
          )
        },
      )
    })
  }

  close(): void {
    this.proxy.close()
    this.agent.destroy()
  }
}

/** Identity in, signature headers out if the route asks, and the usual `X-Forwarded-*`. */
function prepareHeaders(ctx: RequestContext, route: CompiledRoute): void {
  const headers = ctx.req.headers
  setIdentityHeaders(headers, ctx.identity)
  if (route.stripSignatureHeaders) for (const h of SIGNATURE_HEADERS) delete headers[h]
  const client = ctx.req.socket.remoteAddress ?? ''
  const prior = headers['x-forwarded-for']
  headers['x-forwarded-for'] = prior ? `${String(prior)}, ${client}` : client
  headers['x-forwarded-proto'] = 'encrypted' in ctx.req.socket ? 'https' : 'http'
  headers['x-forwarded-host'] = headers.host ?? ''
}

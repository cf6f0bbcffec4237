import type { IncomingHttpHeaders, ServerResponse } from 'node:http'
import type { Readable } from 'node:stream'
import { Agent, errors as undiciErrors, type Dispatcher } from 'undici'
import type { CompiledRoute } from '../routes/route.js'
import { LocalReplyError, type StreamEnd } from '../errors.js'
import { targetOf, type RequestContext } from '../pipeline/context.js'
import { stripHopByHop } from '../request/headers.js'
import { upstreamHeaders } from './upstream-headers.js'
import { addCorsHeaders, corsHeaders } from './cors.js'

/** How a forwarded request ended: the status relayed, and whether the exchange completed. */
export interface ForwardOutcome {
  status: number
  end: 'complete' | StreamEnd
}

/**
 * Sends a verified request upstream and relays the answer (docs/forwarding.md). Resolves once
 * the exchange is over; rejects with a 502/504/408 `LocalReplyError` only while nothing has
 * been written to the client, so the caller can still answer locally.
 */
export interface Forwarder {
  forward(ctx: RequestContext, route: CompiledRoute): Promise<ForwardOutcome>
  close(): Promise<void>
}

/**
 * The forwarder, on undici (the HTTP client Node itself ships). undici sends exactly the method,
 * path and headers it is given: no dot-segment resolution, no re-encoding, no added
 * `Content-Length`, and it refuses to write more body bytes than a declared length. A
 * connection that saw any error is closed, never returned to the pool. It drives undici's
 * `dispatch` directly: the answer is written to the client as it arrives, with backpressure,
 * and no promise, stream or abort signal is made per request beyond the one result.
 */
export class UndiciForwarder implements Forwarder {
  private readonly agent = new Agent({ keepAliveTimeout: 4_000, connect: { timeout: 10_000 } })

  forward(ctx: RequestContext, route: CompiledRoute): Promise<ForwardOutcome> {
    // A client that left while the stages ran (a slow key fetch) is not forwarded for: its
    // 'close' came before the listener below could hear it.
    if (ctx.res.destroyed || ctx.socket.destroyed) return Promise.resolve({ status: 0, end: 'client_closed' })
    const target = targetOf(ctx)
    const headers = upstreamHeaders(ctx, route)
    if (headers.host === '') delete headers.host
    return new Promise((resolve, reject) => {
      const exchange = new Exchange(ctx, route, answerHeaders(ctx), resolve, reject)
      const body = ctx.body ?? (ctx.hasBody ? watchUpload(ctx, route, exchange) : null)
      this.agent.dispatch(
        {
          origin: route.upstreamOrigin,
          path: route.upstreamPathPrefix + target.path + target.query,
          method: ctx.signed.method as Dispatcher.HttpMethod,
          headers,
          body,
          headersTimeout: route.timeoutMs,
          bodyTimeout: route.timeoutMs,
        },
        exchange,
      )
    })
  }

  close(): Promise<void> {
    return this.agent.destroy()
  }
}

/** One request's upstream exchange: undici's callbacks, relayed to the client's response. */
class Exchange implements Dispatcher.DispatchHandler {
  private controller: Dispatcher.DispatchController | undefined
  /** Why the gateway ended the exchange itself, when it did. */
  private cause: LocalReplyError | 'client_closed' | undefined
  private status = 0
  /** The upstream's answer has been handed to the response in full. */
  private upstreamEnded = false

  private readonly res: ServerResponse
  private readonly resolve: (outcome: ForwardOutcome) => void
  private readonly reject: (err: LocalReplyError) => void

  constructor(
    ctx: RequestContext,
    private readonly route: CompiledRoute,
    /** Set on the relayed answer over the upstream's own (see `answerHeaders`). */
    private readonly ours: AnswerHeaders,
    resolve: (outcome: ForwardOutcome) => void,
    reject: (err: LocalReplyError) => void,
  ) {
    const res = (this.res = ctx.res)
    const socket = ctx.socket
    // The client leaving ends the upstream exchange too, whatever stage it is in. The socket is
    // watched as well as the response: the response of a pipelined request queued behind
    // another never gets the socket, so it hears nothing when the connection closes, and an
    // answer paused on its backpressure would wait for a 'drain' that never comes.
    const onClose = (): void => {
      if (res.writableFinished) return
      // The upstream's answer was complete but never reached the client.
      if (this.upstreamEnded) return this.resolve({ status: this.status, end: 'client_closed' })
      this.stop('client_closed')
    }
    res.once('close', onClose)
    socket.once('close', onClose)
    const unwatch = (): void => {
      res.off('close', onClose)
      socket.off('close', onClose)
    }
    let settled = false
    this.resolve = (outcome) => {
      if (settled) return
      settled = true
      unwatch()
      resolve(outcome)
    }
    this.reject = (err) => {
      if (settled) return
      settled = true
      unwatch()
      reject(err)
    }
  }

  /** Ends the exchange from the gateway's side (client gone, upload stalled). */
  stop(why: LocalReplyError | 'client_closed'): void {
    this.cause ??= why
    this.controller?.abort(why instanceof Error ? why : new Error('client closed'))
  }

  onRequestStart(controller: Dispatcher.DispatchController): void {
    this.controller = controller
    if (this.cause !== undefined) controller.abort(new Error('ended before the request started'))
  }

  onResponseStart(controller: Dispatcher.DispatchController, statusCode: number, headers: IncomingHttpHeaders): void {
    this.status = statusCode
    stripHopByHop(headers)
    // On a rate-limited route the RateLimit fields are the gateway's (docs/state-store.md).
    if (this.route.rateLimit !== undefined) {
      delete headers.ratelimit
      delete headers['ratelimit-policy']
    }
    headers['x-request-id'] = this.ours.requestId
    // The upstream's own links are kept, the resource's metadata link added (-11 §11.2.5).
    if (this.ours.link !== undefined) headers.link = headers.link ? `${String(headers.link)}, ${this.ours.link}` : this.ours.link
    if (this.ours.cors !== undefined) addCorsHeaders(headers, this.ours.cors)
    this.res.writeHead(statusCode, headers)
  }

  onResponseData(controller: Dispatcher.DispatchController, chunk: Buffer): void {
    if (!this.res.write(chunk)) {
      controller.pause()
      this.res.once('drain', () => controller.resume())
    }
  }

  onResponseEnd(): void {
    this.upstreamEnded = true
    this.res.end()
    // Complete only once the client has it: the answer to a pipelined request waits behind the
    // one before it, and the connection may close first (then it is `client_closed`).
    if (this.res.writableFinished) return this.resolve({ status: this.status, end: 'complete' })
    this.res.once('finish', () => this.resolve({ status: this.status, end: 'complete' }))
  }

  onResponseError(_controller: Dispatcher.DispatchController, err: Error): void {
    if (this.cause === 'client_closed') return this.resolve({ status: this.status, end: 'client_closed' })
    if (this.res.headersSent) {
      // Headers are out: the only honest signal left is to cut the client's connection.
      this.res.destroy()
      return this.resolve({ status: this.status, end: 'upstream_reset' })
    }
    this.reject(this.cause ?? upstreamError(err, this.route))
  }
}

/**
 * What the gateway sets on a relayed answer: the request's `X-Request-Id` (an upstream that
 * answers with another id does not get to change the one the client and the log have), and
 * the route's CORS headers for a listed origin (src/proxy/cors.ts).
 */
interface AnswerHeaders {
  requestId: string
  /** The `aauth-resource` link (AAuth -11 §11.2.5), when the issuer can be named by one. */
  link: string | undefined
  cors: Record<string, string> | undefined
}

function answerHeaders(ctx: RequestContext): AnswerHeaders {
  return { requestId: ctx.requestId, link: ctx.snapshot.resourceLink, cors: corsHeaders(ctx) }
}

/**
 * The request body as it arrives, for requests whose body was not buffered. A client that
 * stalls for the route's `timeout` is cut off, answered 408 if nothing was answered yet. The
 * watch reads the socket's byte count rather than listening for `data`, which would start the
 * stream flowing before undici reads it.
 */
function watchUpload(ctx: RequestContext, route: CompiledRoute, exchange: Exchange): Readable {
  const { req, socket } = ctx
  let seen = socket.bytesRead
  const timer = setTimeout(function check() {
    if (req.complete || req.destroyed) return
    if (socket.bytesRead === seen) {
      return exchange.stop(new LocalReplyError('body_timeout', `no request body data for ${route.timeoutMs / 1000} s`))
    }
    seen = socket.bytesRead
    timer.refresh()
  }, route.timeoutMs)
  req.once('close', () => clearTimeout(timer))
  return req
}

/**
 * A 504 or 502 for the client, which learns neither the upstream's address nor its error; the
 * decision line's `detail` has both (`internal`).
 */
function upstreamError(err: Error, route: CompiledRoute): LocalReplyError {
  const internal = `upstream ${route.upstreamOrigin}: ${err.message}`
  if (err instanceof undiciErrors.HeadersTimeoutError || err instanceof undiciErrors.ConnectTimeoutError) {
    return new LocalReplyError('upstream_timeout', `upstream did not answer within ${route.timeoutMs / 1000} s`).withInternal(internal)
  }
  const code = (err as { code?: unknown }).code
  return new LocalReplyError('upstream_unreachable', 'the upstream could not be reached').withInternal(typeof code === 'string' ? `${internal} (${code})` : internal)
}

import { pipeline, type Readable } from 'node:stream'
import { Agent, errors as undiciErrors } from 'undici'
import type { CompiledRoute } from '../config/compile.js'
import { LocalReplyError, type StreamEnd } from '../errors.js'
import { targetOf, type RequestContext } from '../pipeline/context.js'
import { stripHopByHop } from '../request/headers.js'
import { upstreamHeaders } from './upstream-headers.js'

/** How a forwarded request ended: the status relayed, and whether the exchange completed. */
export interface ForwardOutcome {
  status: number
  end: 'complete' | StreamEnd
}

/**
 * Sends a verified request upstream and relays the answer (README "Forwarding"). Resolves once
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
 * connection that saw any error is closed, never returned to the pool.
 */
export class UndiciForwarder implements Forwarder {
  private readonly agent = new Agent({ keepAliveTimeout: 4_000, connect: { timeout: 10_000 } })

  async forward(ctx: RequestContext, route: CompiledRoute): Promise<ForwardOutcome> {
    const { req, res } = ctx
    // A client that left while the stages ran (a slow key fetch) is not forwarded for: its
    // 'close' came before the listeners below could hear it.
    if (res.destroyed || ctx.socket.destroyed) return { status: 0, end: 'client_closed' }
    const target = targetOf(ctx)
    const headers = upstreamHeaders(ctx, route)
    if (headers.host === '') delete headers.host
    const abort = new AbortController()
    let cause: LocalReplyError | StreamEnd | undefined
    const stop = (why: LocalReplyError | StreamEnd): void => {
      cause ??= why
      abort.abort()
    }
    // The client leaving ends the upstream exchange too, whatever stage it is in. The socket is
    // watched as well as the response: the response of a pipelined request queued behind
    // another never gets the socket, so it hears nothing when the connection closes, and
    // relaying into it would wait forever to flush (see `gone` below).
    let gone: (() => void) | undefined
    const onClose = (): void => {
      if (res.writableFinished) return
      stop('client_closed')
      gone?.()
    }
    res.once('close', onClose)
    ctx.socket.once('close', onClose)
    const unwatch = (): void => {
      res.off('close', onClose)
      ctx.socket.off('close', onClose)
    }
    const body = ctx.body ?? (ctx.hasBody ? streamedBody(ctx, route, stop) : null)
    let upstream
    try {
      upstream = await this.agent.request({
        origin: route.upstreamOrigin,
        path: route.upstreamPathPrefix + target.path + target.query,
        method: ctx.signed.method,
        headers,
        body,
        signal: abort.signal,
        headersTimeout: route.timeoutMs,
        bodyTimeout: route.timeoutMs,
      })
    } catch (err) {
      unwatch()
      if (cause === 'client_closed') return { status: 0, end: 'client_closed' }
      if (cause instanceof LocalReplyError) throw cause
      throw upstreamError(err, route)
    }
    const responseHeaders = upstream.headers
    stripHopByHop(responseHeaders)
    res.writeHead(upstream.statusCode, responseHeaders)
    return new Promise((resolve) => {
      let settled = false
      const settle = (end: ForwardOutcome['end']): void => {
        if (settled) return
        settled = true
        unwatch()
        resolve({ status: upstream.statusCode, end })
      }
      gone = () => settle('client_closed')
      pipeline(upstream.body, res, (err) => {
        if (err === undefined || err === null) return settle('complete')
        // Headers are out: the only honest signal left is to cut the client's connection.
        res.destroy()
        settle(cause === 'client_closed' ? 'client_closed' : 'upstream_reset')
      })
    })
  }

  close(): Promise<void> {
    return this.agent.destroy()
  }
}

/**
 * The request body as it arrives, for requests whose body was not buffered. A client that
 * stalls for the route's `timeout` is cut off, answered 408 if nothing was answered yet. The
 * watch reads the socket's byte count rather than listening for `data`, which would start the
 * stream flowing before undici reads it.
 */
function streamedBody(ctx: RequestContext, route: CompiledRoute, stop: (why: LocalReplyError) => void): Readable {
  const { req, socket } = ctx
  let seen = socket.bytesRead
  const timer = setTimeout(function check() {
    if (req.complete || req.destroyed) return
    if (socket.bytesRead === seen) {
      return stop(new LocalReplyError('body_timeout', `no request body data for ${route.timeoutMs / 1000} s`))
    }
    seen = socket.bytesRead
    timer.refresh()
  }, route.timeoutMs)
  req.once('close', () => clearTimeout(timer))
  return req
}

function upstreamError(err: unknown, route: CompiledRoute): LocalReplyError {
  if (err instanceof undiciErrors.HeadersTimeoutError || err instanceof undiciErrors.ConnectTimeoutError) {
    return new LocalReplyError('upstream_timeout', `upstream did not answer within ${route.timeoutMs / 1000} s`)
  }
  const code = (err as { code?: unknown }).code
  return new LocalReplyError('upstream_unreachable', `upstream unreachable (${typeof code === 'string' ? code : 'error'})`)
}

import { request as httpRequest, ServerResponse, type IncomingMessage } from 'node:http'
import { request as httpsRequest } from 'node:https'
import { pipeline, type Duplex } from 'node:stream'
import type { CompiledRoute } from '../routes/route.js'
import { LocalReplyError } from '../errors.js'
import { announcesBody, createContext, targetOf, type RequestContext } from '../pipeline/context.js'
import { stripHopByHop } from '../request/headers.js'
import type { GatewayServices } from '../services.js'
import { admit, finish, localReply, type SnapshotHolder } from './handler.js'
import { record, recordEnd } from './record.js'
import { upstreamHeaders } from './upstream-headers.js'

/**
 * `Upgrade` requests (the listener's `upgrade` event). A WebSocket handshake goes through the
 * same pipeline as any request (message check, route, signature, access, policy), then the
 * upstream is asked for the same upgrade with the identity headers set; its `101` is relayed and
 * the two sockets are joined. Any other upgrade protocol (h2c, ...) is ignored, as RFC 9110
 * §7.8 allows: the request is answered as a plain one and the connection closed. An upgrade
 * request with a body is refused: the parser stops at the headers, so the body cannot be read
 * as that request's.
 */
export function createUpgradeHandler(holder: SnapshotHolder, services: GatewayServices, plain: (req: IncomingMessage, res: ServerResponse) => Promise<void>) {
  return async function handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    socket.on('error', () => socket.destroy())
    const res = new ServerResponse(req)
    res.assignSocket(socket as never)
    res.shouldKeepAlive = false
    res.once('finish', () => socket.end())
    const protocol = String(req.headers.upgrade ?? '').toLowerCase()
    // Another protocol is answered as a plain request, which makes its own context.
    if (protocol !== 'websocket' && !announcesBody(req)) return plain(req, res)
    const ctx = createContext(req, res, holder.current, services)
    if (ctx.hasBody) return finish(ctx, localReply(ctx, new LocalReplyError('bad_request', 'an upgrade request cannot carry a body')))
    const route = await admit(ctx, false)
    if (route === undefined) return
    await relayUpgrade(ctx, route, socket, head)
  }
}

/** Asks the upstream for the WebSocket upgrade and relays its answer; joins the sockets on 101. */
function relayUpgrade(ctx: RequestContext, route: CompiledRoute, client: Duplex, head: Buffer): Promise<void> {
  const target = targetOf(ctx)
  const headers = upstreamHeaders(ctx, route)
  headers.connection = 'Upgrade'
  headers.upgrade = 'websocket'
  const send = route.upstream.protocol === 'https:' ? httpsRequest : httpRequest
  return new Promise((resolve) => {
    let answered = false
    const upstream = send({
      host: route.upstream.hostname,
      port: route.upstream.port,
      method: ctx.signed.method,
      path: route.upstreamPathPrefix + target.path + target.query,
      headers,
      agent: false,
    })
    upstream.setTimeout(route.timeoutMs, () => upstream.destroy(new LocalReplyError('upstream_timeout', `upstream did not answer within ${route.timeoutMs / 1000} s`)))
    upstream.on('error', (err) => {
      if (answered) return resolve()
      answered = true
      const reply = err instanceof LocalReplyError ? err : new LocalReplyError('upstream_unreachable', 'upstream unreachable')
      if (!ctx.res.headersSent) finish(ctx, localReply(ctx, reply))
      resolve()
    })
    upstream.on('response', (answer) => {
      // The upstream declined the upgrade: its answer is relayed as any other, and recorded
      // once however it ends. An answer cut by the upstream (or stalled past the route timeout)
      // cuts the client connection, the only signal left once the headers are out.
      answered = true
      const status = answer.statusCode ?? 502
      let clientLeft = false
      ctx.res.once('close', () => {
        if (!ctx.res.writableFinished) clientLeft = true
      })
      stripHopByHop(answer.headers)
      answer.headers['x-request-id'] = ctx.requestId
      ctx.res.writeHead(status, answer.headers)
      pipeline(answer, ctx.res, (err) => {
        if (err === undefined || err === null) return record(ctx, status, 'allow', 'ok')
        ctx.res.destroy()
        recordEnd(ctx, status, clientLeft ? 'client_closed' : 'upstream_reset')
      })
      resolve()
    })
    upstream.on('upgrade', (answer, upstreamSocket, upstreamHead) => {
      answered = true
      upstream.setTimeout(0)
      client.write(statusBlock(answer, ctx.requestId))
      if (upstreamHead.length > 0) client.write(upstreamHead)
      if (head.length > 0) upstreamSocket.write(head)
      upstreamSocket.on('error', () => client.destroy())
      client.on('error', () => upstreamSocket.destroy())
      upstreamSocket.on('close', () => client.destroy())
      client.on('close', () => upstreamSocket.destroy())
      upstreamSocket.pipe(client)
      client.pipe(upstreamSocket)
      // Every byte of the tunnel passes through the upstream socket (read one way, written the
      // other), so its inactivity timer is the tunnel's; closing it closes the client's too.
      const idleMs = ctx.snapshot.resource.limits.tunnel_idle_timeout * 1000
      if (idleMs > 0) upstreamSocket.setTimeout(idleMs, () => upstreamSocket.destroy())
      record(ctx, 101, 'allow', 'ok')
      resolve()
    })
    upstream.end()
    client.once('close', () => {
      if (answered) return
      answered = true
      upstream.destroy()
      recordEnd(ctx, 0, 'client_closed')
      resolve()
    })
  })
}

/**
 * The upstream's `101` status line and headers, as received (the upgrade's own headers kept),
 * with the request's `X-Request-Id` in place of any the upstream sent.
 */
function statusBlock(answer: IncomingMessage, requestId: string): string {
  let block = `HTTP/1.1 101 ${answer.statusMessage ?? 'Switching Protocols'}\r\n`
  for (let i = 0; i < answer.rawHeaders.length; i += 2) {
    const name = answer.rawHeaders[i] as string
    if (name.toLowerCase() !== 'x-request-id') block += `${name}: ${answer.rawHeaders[i + 1]}\r\n`
  }
  return `${block}x-request-id: ${requestId}\r\n\r\n`
}

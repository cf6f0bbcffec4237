import { randomUUID } from 'node:crypto'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { Socket } from 'node:net'
import type { LimitsConfig } from '../config/schema.js'
import { LocalReplyError, type LocalReason } from '../errors.js'
import { renderError, type LocalReply } from '../http/render.js'
import type { GatewayServices } from '../services.js'
import type { Forwarder } from './forward.js'
import { createHandler, type SnapshotHolder } from './handler.js'
import { FORWARDED_METHODS } from '../pipeline/message.js'
import { markParserRefusal, recordParserRefusal } from './record.js'
import { createUpgradeHandler } from './upgrade.js'

/** How often Node checks header and request timeouts; so `limits.header_timeout` holds to the second. */
const TIMEOUT_CHECK_MS = 250

/** Parser refusals by Node's error code (anything else is a 400); the renderer knows the rest. */
const PARSER_REFUSALS: Record<string, LocalReason> = {
  HPE_HEADER_OVERFLOW: 'headers_too_large',
  ERR_HTTP_REQUEST_TIMEOUT: 'header_timeout',
}

/**
 * The proxy listener: Node's HTTP/1.1 server (whose parser refuses conflicting `Content-Length`
 * and `Transfer-Encoding`, malformed chunking and bad request lines) with the request handler,
 * WebSocket upgrades, and a defined answer for what never reaches a handler: parser refusals
 * (400/408/431) and `CONNECT` (405). Each is recorded like any request.
 */
export function createProxyListener(holder: SnapshotHolder, services: GatewayServices, forwarder: Forwarder, limits: LimitsConfig): Server {
  const handler = createHandler(holder, services, forwarder)
  // The responses of requests still in the handler, by connection: a parser error on such a
  // connection belongs to that request (its body), not to a new one.
  const inFlight = new WeakMap<Socket, Set<ServerResponse>>()
  const safely = (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const socket = req.socket
    const active = inFlight.get(socket) ?? new Set<ServerResponse>()
    inFlight.set(socket, active.add(res))
    // The handler renders every failure itself; this is the last line against a bug taking
    // the process down with an unhandled rejection.
    return handler(req, res)
      .catch((err: unknown) => {
        services.logger.error({ err }, 'unhandled error in the request handler')
        if (!res.headersSent) res.writeHead(500, { 'content-type': 'application/problem+json', connection: 'close' })
        res.end()
      })
      .finally(() => active.delete(res))
  }
  const server = createServer(
    {
      maxHeaderSize: limits.max_header_bytes,
      headersTimeout: limits.header_timeout * 1000,
      requestTimeout: 0,
      keepAliveTimeout: 5000,
      connectionsCheckingInterval: TIMEOUT_CHECK_MS,
      // The gateway answers a missing `Host` itself (problem+json, logged); duplicates of any
      // header are joined as RFC 9110 §5.3 combines them, so the signature base and the
      // upstream see every line, not only the first.
      requireHostHeader: false,
      joinDuplicateHeaders: true,
    },
    (req, res) => void safely(req, res),
  )
  const upgrade = createUpgradeHandler(holder, services, safely)
  // Upgraded connections leave Node's HTTP connection list, so `closeAllConnections` (the
  // drain deadline, `close`) would not reach an open WebSocket tunnel and `server.close` would
  // wait for it forever. They are kept here and cut with the rest.
  const tunnels = new Set<Socket>()
  const closeAllConnections = server.closeAllConnections.bind(server)
  server.closeAllConnections = (): void => {
    closeAllConnections()
    for (const socket of tunnels) socket.destroy()
  }
  server.on('upgrade', (req, socket: Socket, head) => {
    tunnels.add(socket)
    socket.once('close', () => tunnels.delete(socket))
    upgrade(req, socket, head).catch((err: unknown) => {
      services.logger.error({ err }, 'unhandled error in the upgrade handler')
      socket.destroy()
    })
  })
  /** Answers on a socket that has no response object, renders like any local reply, records it. */
  const refuse = (socket: Socket, err: LocalReplyError, logDetail = err.message): void => {
    const id = randomUUID()
    const status = answerRaw(socket, renderError(err, holder.current), id)
    recordParserRefusal(services, status, err.reason, id, logDetail)
  }
  server.on('connect', (_req, socket: Socket) => {
    refuse(socket, new LocalReplyError('method_not_allowed', 'a reverse proxy does not open tunnels', { allow: FORWARDED_METHODS }))
  })
  server.on('clientError', (err: NodeJS.ErrnoException, socket: Socket) => {
    // A connection that dies between requests is not a request; nor is one that never sent a
    // byte before the header timeout (a preconnect): it is closed without an answer.
    if (err.code === 'ECONNRESET' || !socket.writable) return socket.destroy()
    if (err.code === 'ERR_HTTP_REQUEST_TIMEOUT' && socket.bytesRead === 0) return socket.destroy()
    const reason = PARSER_REFUSALS[err.code ?? ''] ?? 'bad_request'
    const detail = err.code === 'HPE_HEADER_OVERFLOW' ? 'the request headers are too large' : 'the request could not be parsed'
    const refusal = new LocalReplyError(reason, detail)
    const active = inFlight.get(socket)
    if (active !== undefined && active.size > 0) {
      // The error is in the body of a request the handler has (a malformed chunk, a FIN before
      // the declared length): that request is recorded once, by the handler, with this status.
      // It is answered here only if its response has not started; either way the connection ends.
      const reply = renderError(refusal, holder.current)
      markParserRefusal(socket, reply.status, reason)
      if ([...active].some((res) => res.headersSent)) return socket.destroy()
      answerRaw(socket, reply, randomUUID())
      return
    }
    // The parser's own words (which byte, which rule) are for the operator.
    refuse(socket, refusal, `${detail} (${err.code ?? 'error'}: ${err.message})`)
  })
  return server
}

/**
 * Writes a rendered local reply straight to a socket that has no response object, then closes
 * it; resolves the status written. The request never reached the handler, so its id is made
 * here (no inbound one could be read).
 */
function answerRaw(socket: Socket, reply: LocalReply, requestId: string): number {
  const body = JSON.stringify(reply.body)
  let head = `HTTP/1.1 ${reply.status} ${'title' in reply.body ? reply.body.title : ''}\r\n`
  for (const [name, value] of Object.entries(reply.headers)) head += `${name}: ${value}\r\n`
  socket.end(`${head}content-length: ${Buffer.byteLength(body)}\r\nx-request-id: ${requestId}\r\nconnection: close\r\n\r\n${body}`)
  return reply.status
}

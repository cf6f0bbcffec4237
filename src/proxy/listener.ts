import { randomUUID } from 'node:crypto'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { Socket } from 'node:net'
import type { LimitsConfig } from '../config/schema.js'
import type { LocalReason } from '../errors.js'
import type { GatewayServices } from '../services.js'
import type { Forwarder } from './forward.js'
import { createHandler, type SnapshotHolder } from './handler.js'
import { FORWARDED_METHODS } from '../pipeline/message.js'
import { markParserRefusal, recordParserRefusal } from './record.js'
import { createUpgradeHandler } from './upgrade.js'

/** How often Node checks header and request timeouts; so `limits.header_timeout` holds to the second. */
const TIMEOUT_CHECK_MS = 250

/** Parser refusals: the status, the reason label, and the reason phrase of the status line. */
const PARSER_REFUSALS: Record<string, { status: number; reason: LocalReason; phrase: string }> = {
  HPE_HEADER_OVERFLOW: { status: 431, reason: 'headers_too_large', phrase: 'Request Header Fields Too Large' },
  ERR_HTTP_REQUEST_TIMEOUT: { status: 408, reason: 'header_timeout', phrase: 'Request Timeout' },
}
const BAD_REQUEST = { status: 400, reason: 'bad_request' as const, phrase: 'Bad Request' }

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
  server.on('connect', (_req, socket: Socket) => {
    const id = randomUUID()
    const detail = 'a reverse proxy does not open tunnels'
    answerRaw(socket, 405, 'Method Not Allowed', detail, id, `allow: ${FORWARDED_METHODS.join(', ')}\r\n`)
    recordParserRefusal(services, 405, 'method_not_allowed', id, detail)
  })
  server.on('clientError', (err: NodeJS.ErrnoException, socket: Socket) => {
    // A connection that dies between requests is not a request; nor is one that never sent a
    // byte before the header timeout (a preconnect): it is closed without an answer.
    if (err.code === 'ECONNRESET' || !socket.writable) return socket.destroy()
    if (err.code === 'ERR_HTTP_REQUEST_TIMEOUT' && socket.bytesRead === 0) return socket.destroy()
    const refusal = PARSER_REFUSALS[err.code ?? ''] ?? BAD_REQUEST
    const id = randomUUID()
    const detail = err.code === 'HPE_HEADER_OVERFLOW' ? 'the request headers are too large' : 'the request could not be parsed'
    const active = inFlight.get(socket)
    if (active !== undefined && active.size > 0) {
      // The error is in the body of a request the handler has (a malformed chunk, a FIN before
      // the declared length): that request is recorded once, by the handler, with this status.
      // It is answered here only if its response has not started; either way the connection ends.
      markParserRefusal(socket, refusal.status, refusal.reason)
      if ([...active].some((res) => res.headersSent)) return socket.destroy()
      return answerRaw(socket, refusal.status, refusal.phrase, detail, id)
    }
    answerRaw(socket, refusal.status, refusal.phrase, detail, id)
    // The parser's own words (which byte, which rule) are for the operator.
    recordParserRefusal(services, refusal.status, refusal.reason, id, `${detail} (${err.code ?? 'error'}: ${err.message})`)
  })
  return server
}

/**
 * A problem+json answer written straight to a socket that has no response object, then closed.
 * The request never reached the handler, so its id is made here (no inbound one could be read).
 */
function answerRaw(socket: Socket, status: number, phrase: string, detail: string, requestId: string, extraHeaders = ''): void {
  const body = JSON.stringify({ type: 'about:blank', title: phrase, status, error: 'invalid_request', detail })
  socket.end(
    `HTTP/1.1 ${status} ${phrase}\r\ncontent-type: application/problem+json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nx-request-id: ${requestId}\r\n${extraHeaders}connection: close\r\n\r\n${body}`,
  )
}

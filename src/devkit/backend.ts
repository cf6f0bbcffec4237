import { createHash } from 'node:crypto'
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http'
import type { Socket } from 'node:net'
import type { Duplex } from 'node:stream'
import { listenOn } from './http.js'

export interface Received {
  method: string
  url: string
  headers: IncomingHttpHeaders
  /** Field lines as the backend's parser saw them (names in their original case). */
  rawHeaders: string[]
  body: Buffer
}

/** A request whose headers reached the backend, whatever became of its body. */
export interface Arrival {
  method: string
  url: string
  headers: IncomingHttpHeaders
  rawHeaders: string[]
}

/** A WebSocket handshake the backend accepted. */
export interface UpgradeArrival extends Arrival {
  /** Bytes the backend received on the upgraded connection so far. */
  data: Buffer[]
}

export interface BackendOptions {
  /** `host:port` to listen on (default `127.0.0.1:0`, an ephemeral port). */
  listen?: string
  /**
   * The default answer, once the body ended: `echo` (default) is JSON describing what arrived
   * (method, url, headers, body), so you see the identity headers the gateway adds; a string is
   * sent as the JSON body of every answer (the bench's constant reply).
   */
  reply?: 'echo' | string
  /** Keep records of what arrived (default true); the bench turns it off to measure a bare upstream. */
  record?: boolean
  /** Milliseconds an idle keep-alive connection stays open (Node's default when unset). */
  keepAliveTimeout?: number
  /** Answer the default JSON this many milliseconds after the body ended. */
  delayMs?: number
  /**
   * Answers a request instead of the default JSON, called once its headers arrived (the body is
   * still streaming: `req` is the backend's own request). The request is still recorded in
   * `arrived`, and in `received` if its body completes.
   */
  handler?: (req: IncomingMessage, res: ServerResponse) => void
  /**
   * Accept WebSocket handshakes (`upgrade` event): answer 101 with the right
   * `Sec-WebSocket-Accept`, write `hello from backend`, then echo every byte back prefixed
   * with `echo:`; close when the peer does.
   */
  websocket?: boolean
}

export interface Backend {
  url: string
  port: number
  /** Every request the backend received in full (body ended), in order. */
  received: Received[]
  /** Every request whose headers reached the backend, in order, complete or not. */
  arrived: Arrival[]
  /** Requests whose connection or stream ended before their body was complete. */
  aborted: Arrival[]
  /** Accepted WebSocket handshakes. */
  upgrades: UpgradeArrival[]
  /** Connections the backend accepted. */
  connections(): number
  /** Every byte the backend read, all connections in arrival order per connection (latin1). */
  raw(): string
  last(): Received
  /** Forgets what was received so far (counters and records). */
  reset(): void
  close(): Promise<void>
}

const WEBSOCKET_GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11'

/**
 * The developer kit's upstream: a stand-in for an unmodified API (what `npm start` runs behind
 * the gateway), the tests' recording upstream and the bench's bare one. It answers with an echo
 * of what it received, records what reaches it, and can be made slow, custom or a WebSocket peer.
 */
export async function startBackend(opts: BackendOptions = {}): Promise<Backend> {
  const record = opts.record ?? true
  const constant = opts.reply === undefined || opts.reply === 'echo' ? undefined : opts.reply
  const received: Received[] = []
  const arrived: Arrival[] = []
  const aborted: Arrival[] = []
  const upgrades: UpgradeArrival[] = []
  const rawByConnection: Buffer[][] = []
  const upgraded = new Set<Duplex>()
  let connections = 0

  const server = createServer(opts.keepAliveTimeout === undefined ? {} : { keepAliveTimeout: opts.keepAliveTimeout }, (req, res) => {
    const arrival: Arrival = { method: req.method ?? '', url: req.url ?? '', headers: req.headers, rawHeaders: req.rawHeaders }
    if (record) arrived.push(arrival)
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => {
      if (record || constant === undefined) chunks.push(c)
    })
    req.on('close', () => {
      if (!req.complete && record) aborted.push(arrival)
    })
    req.on('end', () => {
      const body = Buffer.concat(chunks)
      if (record) received.push({ ...arrival, body })
      if (opts.handler) return
      const answer = (): void => {
        const text = constant ?? JSON.stringify({ method: req.method, url: req.url, headers: req.headers, body: body.toString('utf8') }, null, 2) + '\n'
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) }).end(text)
      }
      if (opts.delayMs) setTimeout(answer, opts.delayMs)
      else answer()
    })
    opts.handler?.(req, res)
  })
  server.on('connection', (socket: Socket) => {
    connections++
    if (!record) return
    const bytes: Buffer[] = []
    rawByConnection.push(bytes)
    socket.on('data', (c: Buffer) => bytes.push(c))
  })
  if (opts.websocket) {
    server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
      const arrival: UpgradeArrival = { method: req.method ?? '', url: req.url ?? '', headers: req.headers, rawHeaders: req.rawHeaders, data: [] }
      upgrades.push(arrival)
      const key = String(req.headers['sec-websocket-key'] ?? '')
      const accept = createHash('sha1').update(key + WEBSOCKET_GUID).digest('base64')
      upgraded.add(socket)
      socket.on('close', () => upgraded.delete(socket))
      socket.on('error', () => socket.destroy())
      socket.write(
        'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
          `Sec-WebSocket-Accept: ${accept}\r\n\r\nhello from backend`,
      )
      const onData = (chunk: Buffer): void => {
        arrival.data.push(chunk)
        socket.write(Buffer.concat([Buffer.from('echo:'), chunk]))
      }
      if (head.length > 0) onData(head)
      socket.on('data', onData)
      // Like a WebSocket server: the peer's FIN closes the connection (the HTTP server would
      // otherwise keep an upgraded socket half-open).
      socket.on('end', () => socket.end())
    })
  }
  const { address, port, family } = await listenOn(server, opts.listen ?? '127.0.0.1:0')
  return {
    url: `http://${family === 'IPv6' ? `[${address}]` : address}:${port}`,
    port,
    received,
    arrived,
    aborted,
    upgrades,
    connections: () => connections,
    raw: () => rawByConnection.map((c) => Buffer.concat(c).toString('latin1')).join(''),
    last: () => {
      const r = received.at(-1)
      if (!r) throw new Error('backend received nothing')
      return r
    },
    reset: () => {
      received.length = 0
      arrived.length = 0
      aborted.length = 0
      upgrades.length = 0
      for (const c of rawByConnection) c.length = 0
    },
    close: () =>
      new Promise((r) => {
        server.close(() => r())
        server.closeAllConnections()
        for (const s of upgraded) s.destroy()
      }),
  }
}

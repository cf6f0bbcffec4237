import { createServer, type IncomingHttpHeaders, type IncomingMessage, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'

/** Listens on `host:port` (`[v6]:port` too) and resolves the bound address; rejects on EADDRINUSE and the like. */
export function listenOn(server: Server, address: string): Promise<AddressInfo> {
  const colon = address.lastIndexOf(':')
  const port = Number(address.slice(colon + 1))
  const host = address.slice(0, colon).replace(/^\[(.*)\]$/, '$1')
  if (colon <= 0 || !Number.isInteger(port) || port < 0 || port > 65535) {
    return Promise.reject(new Error(`'${address}' is not host:port`))
  }
  return new Promise((resolve, reject) => {
    server.once('error', reject)
    server.listen(port, host, () => {
      server.off('error', reject)
      resolve(server.address() as AddressInfo)
    })
  })
}

/** One request to a demo server, body read whole. */
export interface JsonRequest {
  method: string
  /** Path and query, as received. */
  target: string
  headers: IncomingHttpHeaders
  body: Buffer
}

export type JsonHandler = (req: JsonRequest) => unknown

/** A refusal a handler throws; answered as `{"error", "detail"}` with its status. */
export class HttpProblem extends Error {
  constructor(
    readonly status: number,
    readonly error: string,
    detail: string,
  ) {
    super(detail)
  }
}

export interface LoopbackServer {
  /** `http://127.0.0.1:port`: the server's issuer identifier in this demo. */
  readonly origin: string
  close(): Promise<void>
}

/**
 * A tiny JSON server on `listen` (default an ephemeral loopback port), for the developer kit's
 * person server. `routes` is keyed `"METHOD /path"`; a handler returns the JSON body of a 200.
 */
export async function startJsonServer(routes: Readonly<Record<string, JsonHandler>>, listen = '127.0.0.1:0'): Promise<LoopbackServer> {
  const server = createServer((req, res) => {
    void respond(req, routes).then(({ status, body }) => {
      const text = JSON.stringify(body)
      res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) }).end(text)
    })
  })
  const { address, family, port } = await listenOn(server, listen)
  return {
    origin: `http://${family === 'IPv6' ? `[${address}]` : address}:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve())
        server.closeAllConnections()
      }),
  }
}

async function respond(req: IncomingMessage, routes: Readonly<Record<string, JsonHandler>>): Promise<{ status: number; body: unknown }> {
  const target = req.url ?? '/'
  const handler = routes[`${req.method ?? 'GET'} ${target.split('?')[0] ?? '/'}`]
  if (handler === undefined) return { status: 404, body: { error: 'not_found', detail: 'no such endpoint' } }
  try {
    const body = await readBody(req)
    return { status: 200, body: await handler({ method: req.method ?? 'GET', target, headers: req.headers, body }) }
  } catch (err) {
    if (err instanceof HttpProblem) return { status: err.status, body: { error: err.error, detail: err.message } }
    return { status: 500, body: { error: 'server_error', detail: (err as Error).message } }
  }
}

/** The whole request body. */
export function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => resolve(Buffer.concat(chunks)))
    req.on('error', reject)
  })
}

/** The body as a JSON object, or a 400. */
export function jsonObject(body: Buffer): Record<string, unknown> {
  let value: unknown
  try {
    value = JSON.parse(body.toString('utf8'))
  } catch {
    throw new HttpProblem(400, 'invalid_request', 'the body must be JSON')
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new HttpProblem(400, 'invalid_request', 'the body must be a JSON object')
  }
  return value as Record<string, unknown>
}

/** GETs a JSON object (discovery documents, JWKS). */
export async function getJson(url: string): Promise<Record<string, unknown>> {
  const res = await fetch(url, { headers: { accept: 'application/json' } })
  if (!res.ok) throw new Error(`GET ${url}: HTTP ${res.status}`)
  return (await res.json()) as Record<string, unknown>
}

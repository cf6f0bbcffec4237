import { createServer, type IncomingHttpHeaders } from 'node:http'
import type { AddressInfo } from 'node:net'

export interface Received {
  method: string
  url: string
  headers: IncomingHttpHeaders
  body: Buffer
}

export interface TestBackend {
  url: string
  /** Every request the backend received, in order. */
  received: Received[]
  last(): Received
  close(): Promise<void>
}

/** A real upstream on 127.0.0.1 that records what reaches it; `delayMs` makes it slow. */
export function startBackend(opts: { delayMs?: number } = {}): Promise<TestBackend> {
  const received: Received[] = []
  const server = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      received.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks) })
      const answer = (): void => {
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ ok: true, url: req.url }))
      }
      if (opts.delayMs) setTimeout(answer, opts.delayMs)
      else answer()
    })
  })
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo
      resolve({
        url: `http://127.0.0.1:${port}`,
        received,
        last: () => {
          const r = received.at(-1)
          if (!r) throw new Error('backend received nothing')
          return r
        },
        close: () =>
          new Promise((r) => {
            server.close(() => r())
            server.closeAllConnections()
          }),
      })
    })
  })
}

/** A port that refuses connections (bound, then released). */
export async function closedPort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()))
  const { port } = server.address() as AddressInfo
  await new Promise<void>((r) => server.close(() => r()))
  return port
}

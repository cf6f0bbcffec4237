import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'

export interface EchoBackend {
  url: string
  close(): Promise<void>
}

/**
 * A stand-in for an unmodified API: answers every request with JSON describing what it
 * received (method, path, headers, body), so you can see the identity headers the gateway adds.
 */
export function startEchoBackend(address: string): Promise<EchoBackend> {
  const colon = address.lastIndexOf(':')
  const server = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      const body = JSON.stringify(
        { method: req.method, url: req.url, headers: req.headers, body: Buffer.concat(chunks).toString('utf8') },
        null,
        2,
      )
      res.writeHead(200, { 'content-type': 'application/json' }).end(body + '\n')
    })
  })
  return new Promise((resolve, reject) => {
    server.once('error', reject)
    server.listen(Number(address.slice(colon + 1)), address.slice(0, colon), () => {
      const a = server.address() as AddressInfo
      resolve({
        url: `http://${a.address}:${a.port}`,
        close: () => new Promise((r) => server.close(() => r())),
      })
    })
  })
}

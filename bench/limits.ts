import { sign, verify } from 'node:crypto'
import { newKey } from '../src/devkit/keys.js'
import { Agent, createServer, request, type IncomingMessage, type ServerResponse } from 'node:http'
import type { Server } from 'node:http'

/**
 * The per-core limits a gateway row is read against (issue: per-core speed): the least a
 * reverse proxy on `node:http` can do per request, with and without one Ed25519 verification.
 * An open route cannot beat the first; a signed route cannot beat the second.
 */

const agentFor = (): Agent => new Agent({ keepAlive: true, maxSockets: 256, maxFreeSockets: 64 })

/** A minimal `node:http` forward: no library, no header work, the upstream's answer piped back. */
export function minimalForward(upstream: string, beforeForward?: (done: () => void) => void): Server {
  const target = new URL(upstream)
  const agent = agentFor()
  const server = createServer({ keepAliveTimeout: 5000 }, (req: IncomingMessage, res: ServerResponse) => {
    const go = (): void => {
      const out = request(
        { host: target.hostname, port: target.port, method: req.method, path: req.url, headers: req.headers, agent },
        (answer) => {
          res.writeHead(answer.statusCode ?? 502, answer.headers)
          answer.pipe(res)
        },
      )
      out.on('error', () => {
        if (!res.headersSent) res.writeHead(502)
        res.end()
      })
      req.pipe(out)
    }
    if (beforeForward) beforeForward(go)
    else go()
  })
  server.on('close', () => agent.destroy())
  return server
}

/**
 * The same forward after one asynchronous Ed25519 verification (on libuv's thread pool, as the
 * gateway does) of a fixed 300-byte message: the floor under any signed request.
 */
export function forwardPlusVerify(upstream: string): Server {
  const { privateKey, publicKey } = newKey('Ed25519')
  const data = Buffer.alloc(300, 0x61)
  const signature = sign(null, data, privateKey)
  return minimalForward(upstream, (done) => verify(null, data, publicKey, signature, () => done()))
}

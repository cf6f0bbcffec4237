import { generateKeyPairSync, randomUUID } from 'node:crypto'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { SignJWT } from 'jose'
import type { Credential } from './sources.js'

/**
 * A loopback agent server (AAuth -11 §5.1): publishes `/.well-known/aauth-agent.json` naming its
 * JWKS, and mints `aa-agent+jwt` tokens binding a delegate key. It runs in the bench process; the
 * gateway fetches its keys once and then serves them from cache (the "warm cache" rows).
 */
export interface AgentServer {
  /** `http://127.0.0.1:port`: the `iss` of its tokens, to list in `trust`. */
  readonly origin: string
  /** A delegate key with a fresh agent token for `sub`, as a `jwt` Signature-Key credential. */
  credential(sub: string): Promise<Credential>
  close(): Promise<void>
}

export async function startAgentServer(): Promise<AgentServer> {
  const issuerKey = generateKeyPairSync('ed25519')
  const kid = 'bench-agent-1'
  const jwks = JSON.stringify({ keys: [{ ...issuerKey.publicKey.export({ format: 'jwk' }), alg: 'Ed25519', kid, use: 'sig' }] })
  let origin = ''
  const server = createServer((req, res) => {
    const body =
      req.url === '/.well-known/aauth-agent.json'
        ? JSON.stringify({ issuer: origin, jwks_uri: `${origin}/jwks.json` })
        : req.url === '/jwks.json'
          ? jwks
          : undefined
    if (body === undefined) res.writeHead(404).end()
    else res.writeHead(200, { 'content-type': 'application/json' }).end(body)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()))
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`

  return {
    origin,
    async credential(sub: string): Promise<Credential> {
      const delegate = generateKeyPairSync('ed25519')
      const now = Math.floor(Date.now() / 1000)
      const token = await new SignJWT({
        sub,
        dwk: 'aauth-agent.json',
        jti: randomUUID(),
        cnf: { jwk: { ...delegate.publicKey.export({ format: 'jwk' }), alg: 'Ed25519' } },
      })
        .setProtectedHeader({ alg: 'Ed25519', typ: 'aa-agent+jwt', kid })
        .setIssuer(origin)
        .setIssuedAt(now)
        .setExpirationTime(now + 3600)
        .sign(issuerKey.privateKey)
      return { key: { alg: 'Ed25519', privateKey: delegate.privateKey }, signatureKey: `jwt;jwt="${token}"` }
    },
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve())
        server.closeAllConnections()
      }),
  }
}

import { randomUUID } from 'node:crypto'
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { type JWTPayload, SignJWT } from 'jose'
import { HttpProblem, jsonObject, listenOn, readBody } from './http.js'
import { algOf, newKey, publicJwkOf, type DevAlg, type DevKey, type PublicJwk } from './keys.js'

/**
 * The loopback agent provider of the developer kit (README "Quick start"): the one agent server
 * that `aauth-gateway agent-server`, the demo, the tests and the bench run. It publishes
 * `/.well-known/aauth-agent.json` (`issuer`, `jwks_uri`) and its JWKS at `/jwks.json`, and issues
 * `aa-agent+jwt` agent tokens to its delegates over `POST /delegate/token` with
 * `{"sub", "cnf_jwk"}` (AAuth -11 §5.1, agent delegation). How a delegate proves it may ask is
 * deployment-specific (attestation, mTLS, ...); this server trusts any caller, so it listens on
 * loopback for development only.
 *
 * It answers every `/.well-known/{document}` with its metadata, so tests also run it as a person
 * or access server; the January-2026 `aauth-agent` document (no `.json`) says `{"agent": origin}`
 * instead of `issuer`. It counts requests per path, and its JWKS behaviour is plain mutable
 * fields a test flips (rotate keys, go slow, redirect ...) to exercise the gateway's discovery.
 */
export interface IssuerKey extends DevKey {
  kid: string
}

/** Agent tokens live an hour (AAuth -11 §5.1: SHOULD be at most 24 h). */
export const AGENT_TOKEN_LIFETIME = 3600

/** How `/jwks.json` answers. */
export type JwksBehaviour =
  | { kind: 'ok' }
  | { kind: 'slow'; ms: number }
  | { kind: 'huge'; bytes: number }
  | { kind: 'redirect'; to: string }
  | { kind: 'status'; status: number }
  | { kind: 'no-alg' }

export interface MintOptions {
  typ?: string
  alg?: string
  /** Default: the newest published key's kid. */
  kid?: string
  /** Default: the newest published key. */
  key?: IssuerKey
  /** Extra header members. */
  header?: Record<string, unknown>
}

export interface AgentServerOptions {
  /** `host:port` to listen on (default `127.0.0.1:0`, an ephemeral port). */
  listen?: string
  /** The issuer identifier (default: the server's own `http://` origin). */
  issuer?: string
  /** The signing key (default: a fresh Ed25519 key); its `kid` names it in the JWKS. */
  key?: DevKey
}

export interface AgentServer {
  /** The issuer identifier: `iss` of its tokens, to list in `trust`. */
  readonly origin: string
  /** Where it listens: `http://host:port`. */
  readonly url: string
  /** Requests received, by path. */
  readonly hits: Map<string, number>
  /** Keys in the JWKS, newest last. */
  keys: IssuerKey[]
  /** Members merged into every metadata document (`undefined` values delete a member). */
  metadata: Record<string, unknown>
  jwks: JwksBehaviour
  /** `Cache-Control` sent with the JWKS and metadata; none when undefined. */
  cacheControl: string | undefined
  hitsOn(path: string): number
  /** Generates a key, publishes it and returns it. */
  addKey(alg?: DevAlg): IssuerKey
  /** Signs `claims` with a published key (or `options.key`); `typ` default `aa-agent+jwt`. */
  mint(claims: JWTPayload, options?: MintOptions): Promise<string>
  /** An `aa-agent+jwt` binding `cnf` (default `sub` a test delegate), valid for an hour from `iat`. */
  agentToken(cnf: Record<string, unknown>, overrides?: JWTPayload, options?: MintOptions): Promise<string>
  /** The agent token `POST /delegate/token` answers: `sub` bound to `jwk`, issued at `issuedAt` (default now). */
  issue(sub: string, jwk: PublicJwk, issuedAt?: number): Promise<string>
  close(): Promise<void>
}

let kidCounter = 0

export async function startAgentServer(options: AgentServerOptions = {}): Promise<AgentServer> {
  const hits = new Map<string, number>()
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0] ?? '/'
    hits.set(path, (hits.get(path) ?? 0) + 1)
    if (path === '/delegate/token') return void delegateToken(req, res)
    answer(path, res)
  })
  const address = await listenOn(server, options.listen ?? '127.0.0.1:0')
  const url = `http://${address.family === 'IPv6' ? `[${address.address}]` : address.address}:${address.port}`
  const origin = options.issuer ?? url

  const self: AgentServer = {
    origin,
    url,
    hits,
    keys: [],
    metadata: {},
    jwks: { kind: 'ok' },
    cacheControl: undefined,
    hitsOn: (path) => hits.get(path) ?? 0,
    addKey(alg: DevAlg = 'Ed25519') {
      const kid = `key-${++kidCounter}`
      const key = { ...newKey(alg, kid), kid }
      self.keys.push(key)
      return key
    },
    async mint(claims, options = {}) {
      const key = options.key ?? self.keys.at(-1)
      if (key === undefined) throw new Error('the agent server has no key')
      const header = { alg: options.alg ?? key.alg, typ: options.typ ?? 'aa-agent+jwt', kid: options.kid ?? key.kid, ...options.header }
      return new SignJWT(claims).setProtectedHeader(header).sign(key.privateKey)
    },
    agentToken(cnf, overrides = {}, options = {}) {
      const now = Math.floor(Date.now() / 1000)
      const iat = typeof overrides.iat === 'number' ? overrides.iat : now
      const claims = { iss: origin, dwk: 'aauth-agent.json', sub: 'aauth:assistant@agent.test', jti: randomUUID(), iat, exp: iat + AGENT_TOKEN_LIFETIME, cnf: { jwk: cnf }, ...overrides }
      return self.mint(claims, options)
    },
    issue: (sub, jwk, issuedAt) => self.agentToken({ ...jwk }, issuedAt === undefined ? { sub } : { sub, iat: issuedAt }),
    close: () =>
      new Promise<void>((r) => {
        server.close(() => r())
        server.closeAllConnections()
      }),
  }

  function answer(path: string, res: ServerResponse): void {
    if (path === '/jwks.json') return answerJwks(res)
    const doc = /^\/\.well-known\/([^/]+)$/.exec(path)?.[1]
    if (doc === undefined) return void res.writeHead(404).end()
    const named = doc === 'aauth-agent' ? { agent: origin } : { issuer: origin }
    const body: Record<string, unknown> = { ...named, jwks_uri: `${origin}/jwks.json`, ...self.metadata }
    for (const [k, v] of Object.entries(body)) if (v === undefined) delete body[k]
    json(res, body)
  }

  async function delegateToken(req: IncomingMessage, res: ServerResponse): Promise<void> {
    let status = 200
    let body: unknown
    try {
      if (req.method !== 'POST') throw new HttpProblem(405, 'invalid_request', 'POST {"sub", "cnf_jwk"} here')
      const { sub, cnf_jwk: jwk } = jsonObject(await readBody(req))
      if (typeof sub !== 'string' || sub === '') throw new HttpProblem(400, 'invalid_request', 'sub is required')
      body = { agent_token: await self.issue(sub, delegateKey(jwk)), expires_in: AGENT_TOKEN_LIFETIME }
    } catch (err) {
      const problem = err instanceof HttpProblem ? err : new HttpProblem(500, 'server_error', (err as Error).message)
      status = problem.status
      body = { error: problem.error, error_description: problem.message }
    }
    res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body))
  }

  function answerJwks(res: ServerResponse): void {
    const b = self.jwks
    const keys = self.keys.map((k) => ({ ...k.publicJwk, kid: k.kid }))
    if (b.kind === 'ok') return json(res, { keys })
    if (b.kind === 'no-alg') return json(res, { keys: keys.map(({ alg: _alg, ...rest }) => rest) })
    if (b.kind === 'slow') return void setTimeout(() => json(res, { keys }), b.ms)
    if (b.kind === 'redirect') return void res.writeHead(302, { location: b.to }).end()
    if (b.kind === 'status') return void res.writeHead(b.status).end()
    res.writeHead(200, { 'content-type': 'application/json' })
    res.end(JSON.stringify({ keys, padding: 'x'.repeat(b.bytes) }))
  }

  function json(res: ServerResponse, body: unknown): void {
    const headers: Record<string, string> = { 'content-type': 'application/json' }
    if (self.cacheControl !== undefined) headers['cache-control'] = self.cacheControl
    res.writeHead(200, headers).end(JSON.stringify(body))
  }

  if (options.key === undefined) self.addKey('Ed25519')
  else self.keys.push({ ...options.key, kid: options.key.publicJwk.kid ?? 'agent-key-1' })
  return self
}

/**
 * The delegate's public key as `cnf_jwk` sent it: an Ed25519 or P-256 public JWK, with or
 * without `alg`. The bound key always carries `alg` (AAuth -11: a bound key MUST), filled in from
 * the curve when the delegate left it out.
 */
function delegateKey(value: unknown): PublicJwk {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new HttpProblem(400, 'invalid_request', 'cnf_jwk must be a public JWK object')
  }
  const jwk = value as Record<string, unknown>
  if ('d' in jwk) throw new HttpProblem(400, 'invalid_request', 'cnf_jwk must be a public key (it has "d")')
  try {
    return publicJwkOf(jwk, algOf(jwk))
  } catch (err) {
    throw new HttpProblem(400, 'invalid_request', `cnf_jwk: ${(err as Error).message}`)
  }
}

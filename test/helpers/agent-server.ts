import { createServer, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { type JWTPayload, SignJWT } from 'jose'
import { testKey, type TestKey } from './signing-keys.js'

/**
 * A real AAuth issuer on 127.0.0.1 for tests: an Agent Provider by default, and equally a Person
 * or Access Server, since it answers every `/.well-known/{document}` with its metadata. It
 * publishes a JWKS at `/jwks.json`, counts the requests it gets per path, and mints tokens with
 * jose. Its behaviour is plain mutable fields a test flips (rotate keys, go slow, redirect ...).
 *
 * Metadata: `{"issuer": origin, "jwks_uri": ...}`; the January-2026 `aauth-agent` document (no
 * `.json`) says `{"agent": origin, "jwks_uri": ...}` instead.
 */
export interface IssuerKey extends TestKey {
  kid: string
}

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

export interface AgentServer {
  readonly origin: string
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
  addKey(alg?: 'Ed25519' | 'ES256'): IssuerKey
  /** Signs `claims` with a published key (or `options.key`); `typ` default `aa-agent+jwt`. */
  mint(claims: JWTPayload, options?: MintOptions): Promise<string>
  /** An `aa-agent+jwt` for `sub` binding `cnf`, valid for an hour from now. */
  agentToken(cnf: Record<string, unknown>, overrides?: JWTPayload, options?: MintOptions): Promise<string>
  close(): Promise<void>
}

let kidCounter = 0

export async function startAgentServer(): Promise<AgentServer> {
  const hits = new Map<string, number>()
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0] ?? '/'
    hits.set(path, (hits.get(path) ?? 0) + 1)
    answer(path, res)
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()))
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`

  const self: AgentServer = {
    origin,
    hits,
    keys: [],
    metadata: {},
    jwks: { kind: 'ok' },
    cacheControl: undefined,
    hitsOn: (path) => hits.get(path) ?? 0,
    addKey(alg = 'Ed25519') {
      const key = { ...testKey(alg), kid: `key-${++kidCounter}` }
      self.keys.push(key)
      return key
    },
    async mint(claims, options = {}) {
      const key = options.key ?? self.keys.at(-1)
      if (key === undefined) throw new Error('the agent server has no key')
      const header = { alg: options.alg ?? key.alg, kid: options.kid ?? key.kid, typ: options.typ ?? 'aa-agent+jwt', ...options.header }
      return new SignJWT(claims).setProtectedHeader(header).sign(key.privateKey)
    },
    agentToken(cnf, overrides = {}, options = {}) {
      const now = Math.floor(Date.now() / 1000)
      const claims = { iss: origin, dwk: 'aauth-agent.json', sub: 'aauth:assistant@agent.test', jti: `jti-${now}-${++kidCounter}`, iat: now, exp: now + 3600, cnf: { jwk: cnf }, ...overrides }
      return self.mint(claims, options)
    },
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

  self.addKey('Ed25519')
  return self
}

import { z } from 'zod'
import { ACCESS_LEVELS } from '../identity.js'

/**
 * The config file's schema (CONTRACT §3). Every object is strict: an unknown key is an error
 * naming its file and line. Durations are seconds. Defaults here are the documented defaults.
 */

const hostPort = z
  .string()
  .regex(/^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):\d{1,5}$/, 'expected "host:port"')

const origin = z
  .string()
  .regex(/^https?:\/\/[^/?#\s]+$/, 'expected an origin such as "https://agent.example" (no path)')

const httpUrl = z.string().regex(/^https?:\/\/[^\s]+$/, 'expected an http(s) URL')

const seconds = z.number().int().positive()

export const SCHEMES = ['jwt', 'jwks_uri', 'jwks', 'hwk'] as const
export const ALGORITHMS = ['Ed25519', 'ES256'] as const

const resource = z
  .object({
    /** This resource's identifier: `aud` of person/auth tokens, `iss` of resource tokens. */
    issuer: httpUrl.default('http://127.0.0.1:8080'),
    /** The public `@authority` agents sign; default: host[:port] of `issuer`. */
    authority: z.string().min(1).optional(),
    /** Private JWK file (with `kid` and `alg`) used to mint resource tokens. */
    signing_key: z.string().min(1).optional(),
    /** Four-party mode: the Access Server that resource tokens are addressed to. */
    access_server: origin.optional(),
    /** scope -> description, published as `scope_descriptions`. */
    scopes: z.record(z.string(), z.string()).default({}),
  })
  .strict()

const trust = z
  .object({
    agent_providers: z.array(z.union([origin, z.literal('*')])).default([]),
    person_servers: z.array(z.union([origin, z.literal('*')])).default([]),
    access_servers: z.array(origin).default([]),
    /** Exact http:// origins allowed for discovery: tests and local demos only. */
    insecure_issuers: z.array(origin).default([]),
  })
  .strict()

const replay = z
  .object({
    store: z.enum(['memory', 'redis']).default('memory'),
    url: z.string().regex(/^rediss?:\/\//, 'expected redis:// or rediss://').optional(),
    /** Most unexpired entries the memory store holds; beyond it signed requests get 503 (never an early eviction). */
    max_entries: z.number().int().positive().default(100_000),
  })
  .strict()
  .refine((r) => r.store !== 'redis' || r.url !== undefined, {
    message: 'store: redis needs url',
    path: ['url'],
  })

/** Bounds of the revoked-token store (docs/replay-and-revocation.md); read at start, not on reload. */
const revocation = z
  .object({
    /** Most unexpired revocations held in all; beyond it revocations get 503. */
    max_entries: z.number().int().positive().default(100_000),
    /** Most unexpired revocations one issuer may hold; beyond it that issuer gets 429. */
    max_per_issuer: z.number().int().positive().default(10_000),
  })
  .strict()

const signatures = z
  .object({
    window: seconds.default(60),
    schemes: z.array(z.enum(SCHEMES)).min(1).default(['jwt', 'jwks_uri', 'hwk']),
    algorithms: z.array(z.enum(ALGORITHMS)).min(1).default(['Ed25519', 'ES256']),
    legacy: z.boolean().default(true),
    replay: replay.default({ store: 'memory', max_entries: 100_000 }),
    revocation: revocation.default({ max_entries: 100_000, max_per_issuer: 10_000 }),
    max_body_bytes: z.number().int().nonnegative().default(1_048_576),
  })
  .strict()

const method = z
  .string()
  .regex(/^[A-Z]+$/, 'expected an upper-case HTTP method such as GET')

const route = z
  .object({
    name: z.string().regex(/^[A-Za-z0-9_.-]+$/, 'expected letters, digits, "_", "." or "-"'),
    match: z
      .object({
        host: z.string().min(1).optional(),
        path_prefix: z.string().startsWith('/').default('/'),
        methods: z.array(method).min(1).optional(),
      })
      .strict()
      .default({ path_prefix: '/' }),
    upstream: httpUrl,
    access: z.enum(ACCESS_LEVELS).default('identified'),
    policy: z.string().min(1).optional(),
    scopes: z.array(z.string().min(1)).default([]),
    components: z.array(z.string().min(1)).default([]),
    mode: z.enum(['enforce', 'shadow']).default('enforce'),
    strip_signature_headers: z.boolean().default(false),
    /** Seconds to wait for the upstream's response headers before answering 504. */
    timeout: seconds.default(30),
  })
  .strict()

const limits = z
  .object({
    /** Bytes of request headers accepted (Node's --max-http-header-size). */
    max_header_bytes: z.number().int().positive().default(16_384),
    /** Seconds a client may take to send its request headers. */
    header_timeout: seconds.default(10),
    /** Seconds an outbound discovery or JWKS fetch may take. */
    fetch_timeout: seconds.default(5),
    /** Bytes a discovery document or JWKS may have. */
    fetch_max_bytes: z.number().int().positive().default(262_144),
    /** Seconds in-flight requests get to finish after SIGTERM before they are cut. */
    drain_timeout: z.number().int().nonnegative().default(30),
  })
  .strict()

/**
 * Processes serving the proxy listener (docs/scaling.md): `1` is one process, as without the key;
 * more runs a primary that starts that many workers; `auto` one per core the OS lets us use.
 */
const workers = z.union([z.number().int().positive().max(256), z.literal('auto')])

export const configSchema = z
  .object({
    listen: hostPort.default('0.0.0.0:8080'),
    admin: hostPort.default('127.0.0.1:9090'),
    workers: workers.default(1),
    resource: resource.default({ issuer: 'http://127.0.0.1:8080', scopes: {} }),
    trust: trust.default({
      agent_providers: [],
      person_servers: [],
      access_servers: [],
      insecure_issuers: [],
    }),
    signatures: signatures.default({
      window: 60,
      schemes: ['jwt', 'jwks_uri', 'hwk'],
      algorithms: ['Ed25519', 'ES256'],
      legacy: true,
      replay: { store: 'memory', max_entries: 100_000 },
      revocation: { max_entries: 100_000, max_per_issuer: 10_000 },
      max_body_bytes: 1_048_576,
    }),
    limits: limits.default({
      max_header_bytes: 16_384,
      header_timeout: 10,
      fetch_timeout: 5,
      fetch_max_bytes: 262_144,
      drain_timeout: 30,
    }),
    /** A directory of policy files, relative to the config file. */
    policies: z.string().min(1).optional(),
    routes: z.array(route).default([]),
  })
  .strict()

/** The validated config, as written (paths not yet resolved). */
export type GatewayConfig = z.infer<typeof configSchema>
export type RouteConfig = GatewayConfig['routes'][number]
export type TrustConfig = GatewayConfig['trust']
export type SignaturesConfig = GatewayConfig['signatures']
export type LimitsConfig = GatewayConfig['limits']

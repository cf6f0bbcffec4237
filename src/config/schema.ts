import { z } from 'zod'
import { ACCESS_LEVELS } from '../identity.js'
import { LOG_FORMATS, LOG_LEVELS } from '../log/logger.js'
import { parseCidr } from '../request/proxies.js'

/**
 * The config file's schema (docs/configuration.md). Every object is strict: an unknown key is an
 * error naming its file and line. Durations are seconds. Each default is written once, on its key;
 * a section left out is parsed as `{}` (`prefault`), so it gets the same per-key defaults.
 */

const hostPort = z
  .string()
  .regex(/^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):\d{1,5}$/, 'expected "host:port"')

const origin = z
  .string()
  .regex(/^https?:\/\/[^/?#\s]+$/, 'expected an origin such as "https://agent.example" (no path)')

const httpUrl = z.string().regex(/^https?:\/\/[^\s]+$/, 'expected an http(s) URL')

const seconds = z.number().int().positive()

const cidr = z.string().refine((v) => parseCidr(v) !== undefined, 'expected an IPv4 or IPv6 address or CIDR, such as "10.0.0.0/8" or "fd00::/8"')

export const SCHEMES = ['jwt', 'jwks_uri', 'jwks', 'hwk', 'jkt-jwt', 'self-jwt', 'x509'] as const
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
    /**
     * scope -> description, published as `scope_descriptions`: the only scopes routes may ask
     * for and resource tokens may name (AAuth -11 §11.10 "Scopes").
     */
    scopes: z.record(z.string(), z.string()).default({}),
    /** Display name in the metadata, shown by person servers at consent (-11 §7.1, "Metadata Documents"). */
    name: z.string().min(1).optional(),
    /** Markdown description in the metadata, for consent screens (-11 §7.1). */
    description: z.string().min(1).optional(),
    /**
     * Published as `authorization_endpoint` when set (-11 "Authorization Endpoint"): an https URL
     * with no query or fragment. Left out of the metadata otherwise.
     */
    authorization_endpoint: z
      .string()
      .regex(/^https:\/\/[^\s?#]+$/, 'expected an https URL without query or fragment')
      .optional(),
    /**
     * The authorization endpoint (AAuth -11 "Authorization Endpoint Request"), served at
     * `/aauth/authorize` when set: `grant` names the policy that decides whether the gateway
     * grants the scopes itself (a session token), `session_lifetime` how long a session lives.
     */
    authorization: z
      .object({
        grant: z.string().min(1),
        session_lifetime: seconds.max(86400).default(600),
      })
      .strict()
      .optional(),
  })
  .strict()

const trust = z
  .object({
    agent_providers: z.array(z.union([origin, z.literal('*')])).default([]),
    person_servers: z.array(z.union([origin, z.literal('*')])).default([]),
    access_servers: z.array(origin).default([]),
    /** Exact http:// origins allowed for discovery: tests and local demos only. */
    insecure_issuers: z.array(origin).default([]),
    /** CIDRs (or addresses) of load balancers whose X-Forwarded-* and X-Request-Id are kept. */
    proxies: z.array(cidr).default([]),
    /** PEM files of the CA certificates an `x509` chain must reach (docs/configuration.md). */
    x509_anchors: z.array(z.string().min(1)).default([]),
  })
  .strict()

/**
 * `signatures.replay.store` and `url` moved to the top-level `store` section, which now holds
 * the replay entries, revocations and rate-limit counters alike (docs/state-store.md). Kept in
 * the schema only to say so, at the line where the old key is.
 */
const movedToStore = (key: string) =>
  z
    .never({ error: `moved: the top-level \`store\` section (store.type, store.url) now holds the replay entries, revocations and rate limits; remove signatures.replay.${key} (docs/state-store.md)` })
    .optional()

const replay = z
  .object({
    store: movedToStore('store'),
    url: movedToStore('url'),
    /** Most unexpired entries the memory store holds; beyond it signed requests get 503 (never an early eviction). */
    max_entries: z.number().int().positive().default(100_000),
  })
  .strict()

/** Bounds of the revoked-token store (docs/replay-and-revocation.md); read at start, not on reload. */
const revocation = z
  .object({
    /** Most unexpired revocations held in all; beyond it revocations get 503. */
    max_entries: z.number().int().positive().default(100_000),
    /** Most unexpired revocations one issuer may hold; beyond it that issuer gets 429. */
    max_per_issuer: z.number().int().positive().default(10_000),
  })
  .strict()

/**
 * Where state shared between instances lives (docs/state-store.md): replay entries,
 * revocations and rate-limit counters. Applied at start only (docs/operations.md).
 */
const store = z
  .object({
    type: z.enum(['memory', 'redis']).default('memory'),
    /** `redis://` or `rediss://` (TLS), with user and password if any; `${ENV}` works as everywhere. */
    url: z
      .string()
      .refine(isRedisUrl, 'expected redis://[user:password@]host[:port][/db] or rediss://... (no query)')
      .optional(),
    /** Prepended to every key and channel, so several gateways or resources can share one Redis. */
    key_prefix: z.string().max(100).default('aauth-gateway:'),
    /** Seconds one store operation may take before the request is answered 503. */
    timeout: z.number().positive().max(10).default(0.25),
    /** Accept signed requests without the replay check (and rate limits) while the store is down. */
    fail_open: z.boolean().default(false),
  })
  .strict()
  .refine((s) => s.type !== 'redis' || s.url !== undefined, { message: 'store.type redis needs store.url', path: ['url'] })
  .refine((s) => s.type !== 'memory' || s.url === undefined, { message: 'store.url is only for store.type redis', path: ['url'] })

/** A URL ioredis can connect to: scheme, a host, and a database number as the path if any. */
function isRedisUrl(value: string): boolean {
  let url: URL
  try {
    url = new URL(value)
  } catch {
    return false
  }
  // Query parameters would be read by ioredis as options, overriding the ones the store relies on.
  return (url.protocol === 'redis:' || url.protocol === 'rediss:') && url.hostname !== '' && /^(\/\d{0,2})?$/.test(url.pathname) && url.search === ''
}

/**
 * A route's rate limit (docs/state-store.md "Rate limits"): `requests` per `per` seconds for
 * each value of `key`, a CEL expression over the policy variables compiled at load.
 */
const rateLimit = z
  .object({
    requests: z.number().int().positive(),
    per: seconds,
    key: z.string().min(1).default('aauth.agent'),
  })
  .strict()

const signatures = z
  .object({
    window: seconds.default(60),
    schemes: z.array(z.enum(SCHEMES)).min(1).default(['jwt', 'jwks_uri', 'hwk']),
    algorithms: z.array(z.enum(ALGORITHMS)).min(1).default(['Ed25519', 'ES256']),
    legacy: z.boolean().default(true),
    replay: replay.prefault({}),
    revocation: revocation.prefault({}),
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
      .prefault({}),
    upstream: httpUrl,
    /** An AAuth -11 access mode, or a pre--11 name for one (docs/access-modes.md). */
    access: z.enum(ACCESS_LEVELS).default('identified'),
    policy: z.string().min(1).optional(),
    scopes: z.array(z.string().min(1)).default([]),
    components: z.array(z.string().min(1)).default([]),
    mode: z.enum(['enforce', 'shadow']).default('enforce'),
    /**
     * `auth-token` / `session-token` routes: an agent that asks to wait (`Prefer: respond-async`
     * or `wait=N`, RFC 7240) gets the `202` deferred form of `requirement=auth-token` (-11
     * §6.5.1) for a request without a body, and the gateway holds it (docs/access-modes.md).
     */
    deferred: z.boolean().default(false),
    strip_signature_headers: z.boolean().default(false),
    /** Seconds to wait for the upstream's response headers before answering 504. */
    timeout: seconds.default(30),
    rate_limit: rateLimit.optional(),
    /** Browser origins allowed to call this route (docs/operations.md "CORS"); preflights answered before verification. */
    cors: z.object({ origins: z.array(origin).min(1) }).strict().optional(),
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
    /**
     * Seconds an upgraded (WebSocket) tunnel may carry no bytes either way before both of its
     * connections are closed; 0 keeps idle tunnels open. Envoy's `stream_idle_timeout` default.
     */
    tunnel_idle_timeout: z.number().int().nonnegative().default(300),
  })
  .strict()

/** Operational and decision logs (README "Metrics and logs"); `LOG_LEVEL` overrides `level`. */
const log = z
  .object({
    level: z.enum(LOG_LEVELS).default('info'),
    /** Applied at start only. */
    format: z.enum(LOG_FORMATS).default('json'),
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
    /** Not 9090, which is Prometheus's own port. */
    admin: hostPort.default('127.0.0.1:9091'),
    workers: workers.default(1),
    resource: resource.prefault({}),
    trust: trust.prefault({}),
    signatures: signatures.prefault({}),
    limits: limits.prefault({}),
    store: store.prefault({}),
    log: log.prefault({}),
    /** A directory of policy files, relative to the config file. */
    policies: z.string().min(1).optional(),
    /**
     * Whether a 403 names the policy and rule that denied (README "Policies"). `false` keeps
     * them in the decision log only, for operators who do not want agents to learn their rules.
     */
    policies_visible: z.boolean().default(true),
    routes: z.array(route).default([]),
  })
  .strict()

/** The validated config, as written (paths not yet resolved). */
export type GatewayConfig = z.infer<typeof configSchema>
export type RouteConfig = GatewayConfig['routes'][number]
export type TrustConfig = GatewayConfig['trust']
export type SignaturesConfig = GatewayConfig['signatures']
export type LimitsConfig = GatewayConfig['limits']
export type StoreConfig = GatewayConfig['store']

import { readFileSync } from 'node:fs'
import { availableParallelism } from 'node:os'
import { dirname, resolve } from 'node:path'
import { ConfigError, type ConfigProblem } from '../errors.js'
import type { AccessLevel } from '../identity.js'
import type { AcceptHeaders } from '../http/render.js'
import { RouteTable, type Matchable } from '../routes/match.js'
import { ALWAYS_REQUIRED_COMPONENTS, isComputableComponent } from '../signature/components.js'
import { loadConfigFile, type LoadedConfig } from './load.js'
import { loadResourceKey, type ResourceKey } from './resource-key.js'
import type { GatewayConfig, RouteConfig, StoreConfig } from './schema.js'
import type { ResourceConfigView } from './view.js'
import { resourceLink, wellKnownDocuments } from '../resource/metadata.js'
import { mintsResourceTokens } from '../resource/access-mode.js'
import { readYamlFile } from './yaml.js'
import { loadPolicyDir } from '../policy/load.js'
import type { CompiledPolicy } from '../policy/compile.js'
import { compileKeyExpression, type CompiledKeyExpression } from '../policy/key-expression.js'
import { compileCors, type RouteCors } from '../proxy/cors.js'
import { trustedProxies, type TrustedProxies } from '../request/proxies.js'
import type { LogSettings } from '../log/logger.js'


export interface Address {
  host: string
  port: number
}

/** A route with everything the request path needs precomputed; never the raw YAML. */
export interface CompiledRoute extends Matchable {
  readonly name: string
  readonly upstream: URL
  /** `scheme://host:port` of the upstream, what the forwarder's connection pool is keyed by. */
  readonly upstreamOrigin: string
  /** The upstream URL's path without its trailing `/`, prefixed to every forwarded target. */
  readonly upstreamPathPrefix: string
  readonly access: AccessLevel
  readonly policy: CompiledPolicy | undefined
  readonly scopes: readonly string[]
  /** The four always required plus the route's extras, deduplicated. */
  readonly requiredComponents: readonly string[]
  readonly mode: 'enforce' | 'shadow'
  readonly stripSignatureHeaders: boolean
  /** Milliseconds without upstream activity before answering 504. */
  readonly timeoutMs: number
  /** `rate_limit`, when the route has one (docs/state-store.md "Rate limits"). */
  readonly rateLimit: CompiledRateLimit | undefined
  /** The browser origins this route answers CORS for, when it has `cors` (src/proxy/cors.ts). */
  readonly cors: RouteCors | undefined
  /** `deferred`: the 202 form of `requirement=auth-token` for agents that ask to wait (docs/access-modes.md). */
  readonly deferred?: boolean
}

/** A route's rate limit, compiled: its expression, and its `RateLimit-Policy` value built once. */
export interface CompiledRateLimit {
  /** Requests allowed per window. */
  readonly requests: number
  /** The window, in seconds. */
  readonly per: number
  readonly key: CompiledKeyExpression
  /** `"default";q=<requests>;w=<per>` (draft-ietf-httpapi-ratelimit-headers-10, RateLimit-Policy). */
  readonly policyHeader: string
}

/** The `store` section (docs/state-store.md), read once at start. */
export interface StoreSettings {
  readonly type: 'memory' | 'redis'
  /** `redis://` or `rediss://`; may carry a password, so it is never logged as it is. */
  readonly url: string | undefined
  readonly keyPrefix: string
  readonly timeoutMs: number
  readonly failOpen: boolean
}

export interface ResourceIdentity extends ResourceConfigView {
  readonly scopes: Readonly<Record<string, string>>
  readonly signingKey: ResourceKey | undefined
  readonly accessServer: string | undefined
  /** `resource.name`, `resource.description`, `resource.authorization_endpoint` (metadata only). */
  readonly name?: string
  readonly description?: string
  readonly authorizationEndpoint?: string
}

/** One immutable, compiled view of the config. A reload builds a new one and swaps it whole. */
export interface Snapshot {
  readonly file: string
  readonly listen: Address
  readonly admin: Address
  /** Worker processes (`workers`, `auto` resolved to the cores available); 1 = no cluster. */
  readonly workers: number
  readonly resource: ResourceIdentity
  /**
   * The resource view the revocation endpoint verifies under: servers revoke by signing with
   * `jwks_uri` (AAuth -11 §11.12), so it is accepted there even when `signatures.schemes`
   * does not let agents use it; other schemes then get 403 `unsupported_iss`.
   */
  readonly revocationView: ResourceIdentity
  readonly routes: RouteTable<CompiledRoute>
  readonly routeNames: readonly string[]
  readonly policies: ReadonlyMap<string, CompiledPolicy>
  /** Absolute path of the policy directory, when the config names one (watched for reloads). */
  readonly policiesDir: string | undefined
  /** Documents served at the resource's origin: path -> JSON body (src/resource/metadata.ts). */
  readonly wellKnown: ReadonlyMap<string, string>
  /**
   * The `Link: <...>; rel="aauth-resource"` value every answer carries (-11 §11.2.5), or
   * `undefined` when `resource.issuer` is not a server identifier the relation may name.
   */
  readonly resourceLink?: string
  readonly accept: AcceptHeaders
  /** Whether a 403 body names the policy and rule (`policies_visible`). */
  readonly policiesVisible: boolean
  /** Peers whose `X-Forwarded-*` and `X-Request-Id` are kept (`trust.proxies`). */
  readonly trustedProxies: TrustedProxies
  /** `log` as configured (`LOG_LEVEL` is applied over it where the loggers are made). */
  readonly log: LogSettings
  readonly maxBodyBytes: number
  readonly replayMaxEntries: number
  readonly store: StoreSettings
}

/** Loads, validates and compiles a config file; every problem is reported at once. */
export async function buildSnapshot(file: string, env: NodeJS.ProcessEnv = process.env): Promise<Snapshot> {
  try {
    return await compileConfig(loadConfigFile(file, env))
  } catch (err) {
    // Config problems stop compilation before policies load; `check` still owes the policy ones.
    if (!(err instanceof ConfigError) || err.problems.some((p) => p.file !== file)) throw err
    const more = policyProblemsFor(file)
    throw more.length > 0 ? new ConfigError([...err.problems, ...more]) : err
  }
}

/** Problems in the policy directory a (possibly invalid) config file names, if it names one. */
function policyProblemsFor(file: string): ConfigProblem[] {
  let dir: unknown
  try {
    dir = (readYamlFile(readFileSync(file, 'utf8'), file, []).docs[0]?.value as { policies?: unknown } | undefined)?.policies
    if (typeof dir !== 'string') return []
    loadPolicyDir(resolve(dirname(resolve(file)), dir))
    return []
  } catch (err) {
    return err instanceof ConfigError ? [...err.problems] : []
  }
}

export async function compileConfig({ file, config, lineOf }: LoadedConfig): Promise<Snapshot> {
  const base = dirname(resolve(file))
  const problems: ConfigProblem[] = []
  const collect = <T>(fn: () => T): T | undefined => {
    try {
      return fn()
    } catch (err) {
      if (err instanceof ConfigError) problems.push(...err.problems)
      else throw err
      return undefined
    }
  }

  const policiesDir = config.policies === undefined ? undefined : resolve(base, config.policies)
  const policies = policiesDir
    ? (collect(() => loadPolicyDir(policiesDir)) ?? new Map<string, CompiledPolicy>())
    : new Map<string, CompiledPolicy>()
  const signingKey = config.resource.signing_key
    ? await loadResourceKey(resolve(base, config.resource.signing_key)).catch((err: unknown) => {
        problems.push({ file, line: lineOf(['resource', 'signing_key']), key: 'resource.signing_key', message: (err as Error).message })
        return undefined
      })
    : undefined

  const problem = (path: (string | number)[], message: string): void => {
    problems.push({ file, line: lineOf(path), key: path.join('.'), message })
  }
  const routes = config.routes.map((r, i) =>
    compileRoute(r, i, policies, problem, config.resource, (source, path) =>
      compileKeyExpression(source, { file, line: lineOf(path), key: path.join('.') }, problems),
    ),
  )
  const names = new Set<string>()
  config.routes.forEach((r, i) => {
    if (names.has(r.name)) problem(['routes', i, 'name'], `duplicate route name "${r.name}"`)
    names.add(r.name)
  })
  if (problems.length > 0) throw new ConfigError(problems)

  const resource = resourceIdentity(config, signingKey)
  return deepFreeze({
    file,
    listen: parseAddress(config.listen),
    admin: parseAddress(config.admin),
    workers: workerCount(config.workers),
    resource,
    revocationView: {
      ...resource,
      signatures: { ...resource.signatures, schemes: [...new Set([...resource.signatures.schemes, 'jwks_uri' as const])] },
    },
    routes: new RouteTable(routes),
    wellKnown: wellKnownDocuments(resource, routes),
    resourceLink: resourceLink(resource.issuer),
    routeNames: routes.map((r) => r.name),
    policies,
    policiesDir,
    accept: {
      schemes: config.signatures.schemes.join(', '),
      algorithms: config.signatures.algorithms.join(', '),
    },
    policiesVisible: config.policies_visible,
    trustedProxies: trustedProxies(config.trust.proxies),
    log: config.log,
    maxBodyBytes: config.signatures.max_body_bytes,
    replayMaxEntries: config.signatures.replay.max_entries,
    store: storeSettings(config.store),
  })
}

function storeSettings(store: StoreConfig): StoreSettings {
  return {
    type: store.type,
    url: store.url,
    keyPrefix: store.key_prefix,
    timeoutMs: Math.round(store.timeout * 1000),
    failOpen: store.fail_open,
  }
}

function compileRoute(
  r: RouteConfig,
  index: number,
  policies: ReadonlyMap<string, CompiledPolicy>,
  problem: (path: (string | number)[], message: string) => void,
  resourceConfig: GatewayConfig['resource'],
  compileKey: (source: string, path: (string | number)[]) => CompiledKeyExpression | undefined,
): CompiledRoute {
  const policy = r.policy === undefined ? undefined : policies.get(r.policy)
  if (mintsResourceTokens(r.access) && resourceConfig.signing_key === undefined) {
    problem(['routes', index, 'access'], `access: ${r.access} needs resource.signing_key (to mint resource tokens)`)
  }
  // A resource token may only name published scopes (AAuth -11 §11.10), so a route may only ask for those.
  r.scopes.forEach((scope, i) => {
    if (!Object.hasOwn(resourceConfig.scopes, scope)) {
      problem(['routes', index, 'scopes', i], `scope "${scope}" is not published in resource.scopes; add it there (with its description) or remove it here`)
    }
  })
  if (r.deferred && !mintsResourceTokens(r.access)) {
    problem(['routes', index, 'deferred'], `deferred applies to access: auth-token or session-token routes, not ${r.access}`)
  }
  if (r.policy !== undefined && policy === undefined) {
    problem(['routes', index, 'policy'], `no policy named "${r.policy}"`)
  }
  r.components.forEach((c, i) => {
    if (!isComputableComponent(c.toLowerCase())) problem(['routes', index, 'components', i], `the gateway cannot verify component "${c}"`)
  })
  const upstream = new URL(r.upstream)
  const limit = r.rate_limit
  const key = limit === undefined ? undefined : compileKey(limit.key, ['routes', index, 'rate_limit', 'key'])
  return {
    name: r.name,
    host: r.match.host?.toLowerCase(),
    pathPrefix: r.match.path_prefix,
    methods: r.match.methods ? new Set(r.match.methods) : undefined,
    upstream,
    upstreamOrigin: upstream.origin,
    upstreamPathPrefix: upstream.pathname.replace(/\/$/, ''),
    access: r.access,
    policy,
    scopes: r.scopes,
    requiredComponents: [...new Set([...ALWAYS_REQUIRED_COMPONENTS, ...r.components.map((c) => c.toLowerCase())])],
    mode: r.mode,
    stripSignatureHeaders: r.strip_signature_headers,
    timeoutMs: r.timeout * 1000,
    rateLimit:
      limit === undefined || key === undefined
        ? undefined
        : { requests: limit.requests, per: limit.per, key, policyHeader: `"default";q=${limit.requests};w=${limit.per}` },
    cors: r.cors === undefined ? undefined : compileCors(r.cors.origins, r.match.methods),
    deferred: r.deferred,
  }
}

function resourceIdentity(config: GatewayConfig, signingKey: ResourceKey | undefined): ResourceIdentity {
  const issuer = config.resource.issuer.replace(/\/+$/, '')
  return {
    issuer,
    authority: (config.resource.authority ?? new URL(issuer).host).toLowerCase(),
    trust: config.trust,
    signatures: config.signatures,
    limits: config.limits,
    scopes: config.resource.scopes,
    signingKey,
    accessServer: config.resource.access_server,
    name: config.resource.name,
    description: config.resource.description,
    authorizationEndpoint: config.resource.authorization_endpoint,
  }
}

/** The `workers` setting as a count: `auto` is one per core this process may use. */
export function workerCount(setting: GatewayConfig['workers']): number {
  return setting === 'auto' ? availableParallelism() : setting
}

function parseAddress(value: string): Address {
  const colon = value.lastIndexOf(':')
  return { host: value.slice(0, colon).replace(/^\[|\]$/g, ''), port: Number(value.slice(colon + 1)) }
}

/** Freezes plain data; class instances (URL, RouteTable, KeyObject) are left as they are. */
function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object' && (Object.getPrototypeOf(value) === Object.prototype || Array.isArray(value))) {
    for (const v of Object.values(value)) deepFreeze(v)
    Object.freeze(value)
  }
  return value
}

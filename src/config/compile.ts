import { availableParallelism } from 'node:os'
import type { X509Certificate } from 'node:crypto'
import { dirname, resolve } from 'node:path'
import { loadX509Anchors } from '../keys/x509-anchors.js'
import { ConfigError, type ConfigProblem } from '../errors.js'
import type { AcceptHeaders } from '../http/render.js'
import { RouteTable } from '../routes/match.js'
import { compileCors, type CompiledRoute, type RouteEntry } from '../routes/route.js'
import { ALWAYS_REQUIRED_COMPONENTS, isComputableComponent } from '../signature/components.js'
import { InvalidConfigError, loadConfigFile, type LoadedConfig } from './load.js'
import { loadResourceKey, type ResourceKey } from './resource-key.js'
import type { GatewayConfig, RouteConfig, StoreConfig } from './schema.js'
import type { ResourceSettings } from '../resource/settings.js'
import { PENDING_PREFIX, reservedPaths, resourceEndpoints } from '../resource/endpoints.js'
import { prefixMatches } from '../routes/match.js'
import { resourceLink } from '../resource/metadata.js'
import { mintsResourceTokens } from '../resource/access-mode.js'
import { loadPolicyDir } from '../policy/load.js'
import type { CompiledPolicy } from '../policy/compile.js'
import { compileKeyExpression, type CompiledKeyExpression } from '../policy/key-expression.js'
import { trustedProxies, type TrustedProxies } from '../request/proxies.js'
import type { LogSettings } from '../log/logger.js'


export interface Address {
  host: string
  port: number
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

/** One immutable, compiled view of the config. A reload builds a new one and swaps it whole. */
export interface Snapshot {
  readonly file: string
  readonly listen: Address
  readonly admin: Address
  /** Worker processes (`workers`, `auto` resolved to the cores available); 1 = no cluster. */
  readonly workers: number
  readonly resource: ResourceSettings
  /**
   * The resource view the revocation endpoint verifies under: servers revoke by signing with
   * `jwks_uri` (AAuth -11 §11.12), so it is accepted there even when `signatures.schemes`
   * does not let agents use it; other schemes then get 403 `unsupported_iss`.
   */
  readonly revocationView: ResourceSettings
  /** The configured routes and the resource's own endpoints (src/resource/endpoints.ts). */
  readonly routes: RouteTable<RouteEntry>
  readonly routeNames: readonly string[]
  /** The configured routes by name: what a pending request (docs/access-modes.md) names. */
  readonly routesByName?: ReadonlyMap<string, CompiledRoute>
  readonly policies: ReadonlyMap<string, CompiledPolicy>
  /** Absolute path of the policy directory, when the config names one (watched for reloads). */
  readonly policiesDir: string | undefined
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
    // An invalid config file stops compilation before policies load; `check` still owes the
    // policy problems, in the directory the file names (as the loader read it).
    if (!(err instanceof InvalidConfigError) || err.policies === undefined) throw err
    const more = policyProblemsIn(resolve(dirname(resolve(file)), err.policies))
    throw more.length > 0 ? new ConfigError([...err.problems, ...more]) : err
  }
}

function policyProblemsIn(dir: string): ConfigProblem[] {
  try {
    loadPolicyDir(dir)
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

  const x509Anchors = await loadX509Anchors(config.trust.x509_anchors.map((f) => resolve(base, f))).catch((err: unknown) => {
    problems.push({ file, line: lineOf(['trust', 'x509_anchors']), key: 'trust.x509_anchors', message: (err as Error).message })
    return []
  })

  const problem = (path: (string | number)[], message: string): void => {
    problems.push({ file, line: lineOf(path), key: path.join('.'), message })
  }
  const routes = config.routes.map((r, i) =>
    compileRoute(r, i, policies, problem, config.resource, (source, path) =>
      compileKeyExpression(source, { file, line: lineOf(path), key: path.join('.') }, problems),
    ),
  )
  if (config.signatures.schemes.includes('x509') && config.trust.x509_anchors.length === 0) {
    problem(['signatures', 'schemes'], 'x509 needs trust.x509_anchors: without a CA to chain to, no certificate could be accepted')
  }
  const names = new Set<string>()
  config.routes.forEach((r, i) => {
    if (names.has(r.name)) problem(['routes', i, 'name'], `duplicate route name "${r.name}"`)
    names.add(r.name)
  })
  const grantName = config.resource.authorization?.grant
  const grant = grantName === undefined ? undefined : policies.get(grantName)
  if (grantName !== undefined && grant === undefined) problem(['resource', 'authorization', 'grant'], `no policy named "${grantName}"`)
  if (grantName !== undefined && config.resource.signing_key === undefined) {
    // A refused grant answers with a resource token, which needs the key to sign it.
    problem(['resource', 'authorization'], 'the authorization endpoint needs resource.signing_key (a refused grant answers with a resource token)')
  }
  if (grantName !== undefined && config.resource.authorization_endpoint !== undefined) {
    problem(['resource', 'authorization_endpoint'], 'resource.authorization serves the authorization endpoint itself; drop resource.authorization_endpoint')
  }
  const deferred = config.routes.some((r) => r.deferred === true)
  const reserved = reservedPaths(config.resource.signing_key !== undefined, grantName !== undefined)
  config.routes.forEach((r, i) => {
    const prefix = r.match.path_prefix.length > 1 ? r.match.path_prefix.replace(/\/$/, '') : r.match.path_prefix
    if (reserved.includes(prefix)) {
      problem(['routes', i, 'match', 'path_prefix'], `${prefix} is served by the gateway itself (README "Config"); this route would never see it`)
    }
    if (deferred && prefixMatches(PENDING_PREFIX, prefix)) {
      problem(['routes', i, 'match', 'path_prefix'], `${PENDING_PREFIX}/ holds the pending URLs of deferred challenges (docs/access-modes.md); this route would take them`)
    }
  })
  if (problems.length > 0) throw new ConfigError(problems)

  const resource = resourceSettings(config, signingKey, x509Anchors, grant)
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
    routes: new RouteTable<RouteEntry>([...routes, ...resourceEndpoints(resource, routes)]),
    resourceLink: resourceLink(resource.issuer),
    routeNames: routes.map((r) => r.name),
    routesByName: new Map(routes.map((r) => [r.name, r])),
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
    kind: 'upstream',
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

function resourceSettings(
  config: GatewayConfig,
  signingKey: ResourceKey | undefined,
  x509Anchors: readonly X509Certificate[],
  grant: CompiledPolicy | undefined,
): ResourceSettings {
  const authorization = config.resource.authorization
  const issuer = config.resource.issuer.replace(/\/+$/, '')
  return {
    issuer,
    authority: (config.resource.authority ?? new URL(issuer).host).toLowerCase(),
    trust: config.trust,
    signatures: config.signatures,
    limits: config.limits,
    x509Anchors,
    scopes: config.resource.scopes,
    signingKey,
    accessServer: config.resource.access_server,
    name: config.resource.name,
    description: config.resource.description,
    authorizationEndpoint: config.resource.authorization_endpoint,
    authorization:
      authorization === undefined || grant === undefined ? undefined : { grant, sessionLifetime: authorization.session_lifetime },
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

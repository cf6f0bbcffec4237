import type { ServerResponse } from 'node:http'
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client'
import { VERSION } from '../version.js'

/** How a request ended (docs/metrics.md `decision`). */
export type Decision = 'allow' | 'deny' | 'challenge' | 'error'

/**
 * How a config reload ended (docs/operations.md): `ok` swapped in the whole new config; `error`
 * kept the previous one (the new one is invalid); `restart_required` swapped in what applies
 * live while keys applied only at start (`listen`, `limits.header_timeout`, ...) kept their values.
 */
export type ReloadResult = 'ok' | 'error' | 'restart_required'

/** What a discovery fetch was for (`kind` of `aauth_gateway_jwks_fetch_total`, docs/metrics.md). */
export type FetchKind = 'metadata' | 'jwks'

/** Entry counts read when `/metrics` is scraped: caches by name, stores by name. */
export interface SizeSource {
  caches(): Readonly<Record<string, number>>
  stores(): Readonly<Record<string, number>>
}

/**
 * State store operations (docs/state-store.md "Metrics"), the closed `op` label of
 * `aauth_gateway_store_errors_total`: recording a signature, recording a revocation, looking
 * one up in the store (when the local copy is not known to be current), loading the
 * revocations into the local copy, counting a request against a rate limit, and the periodic
 * health check.
 */
export type StoreOp = 'replay' | 'revoke' | 'revocation_check' | 'revocation_sync' | 'rate_limit' | 'pending' | 'health'

/** Operations `store.fail_open` lets through while the store is down (`aauth_gateway_store_fail_open_total{op}`). */
export type FailOpenOp = 'replay' | 'revocation_check' | 'rate_limit'

/**
 * Every metric of docs/metrics.md, on a registry owned by one gateway instance (no global state,
 * so tests can run several gateways in one process). Label values come from closed sets only:
 * route names, reason codes, levels, schemes. Never an agent, a user, a token or a URL.
 */
export class GatewayMetrics {
  readonly registry = new Registry()

  readonly requests = new Counter({
    name: 'aauth_gateway_requests_total',
    help: 'Requests by route, decision, reason and proven identity level.',
    labelNames: ['route', 'decision', 'reason', 'level'] as const,
    registers: [this.registry],
  })

  readonly requestDuration = new Histogram({
    name: 'aauth_gateway_request_duration_seconds',
    help: 'Time from request start to response end, including the upstream.',
    labelNames: ['route', 'decision'] as const,
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [this.registry],
  })

  readonly verifyDuration = new Histogram({
    name: 'aauth_gateway_verify_duration_seconds',
    help: 'Time to resolve the key and verify the signature, by Signature-Key scheme.',
    labelNames: ['scheme'] as const,
    buckets: [0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.05, 0.25, 1],
    registers: [this.registry],
  })

  readonly upstreamDuration = new Histogram({
    name: 'aauth_gateway_upstream_duration_seconds',
    help: 'Time from sending a request upstream until its answer ended (or failed), by route and status class.',
    labelNames: ['route', 'status_class'] as const,
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [this.registry],
  })

  readonly policyDecisions = new Counter({
    name: 'aauth_gateway_policy_decisions_total',
    help: 'Policy evaluations by route, policy, result and mode.',
    labelNames: ['route', 'policy', 'result', 'mode'] as const,
    registers: [this.registry],
  })

  readonly jwksFetches = new Counter({
    name: 'aauth_gateway_jwks_fetch_total',
    help: 'Discovery fetches by result (ok, error, not_modified) and kind (metadata: the well-known document, jwks: the key set).',
    labelNames: ['result', 'kind'] as const,
    registers: [this.registry],
  })

  readonly tokenCache = new Counter({
    name: 'aauth_gateway_token_cache_total',
    help: 'Verified-token cache lookups by result (hit: the JWT was not verified again; miss).',
    labelNames: ['result'] as const,
    registers: [this.registry],
  })

  readonly keyCache = new Counter({
    name: 'aauth_gateway_key_cache_total',
    help: 'Key cache lookups by result (hit, miss, stale).',
    labelNames: ['result'] as const,
    registers: [this.registry],
  })

  readonly replayRejected = new Counter({
    name: 'aauth_gateway_replay_rejected_total',
    help: 'Requests refused because their signature was already seen.',
    registers: [this.registry],
  })

  readonly replayStoreFull = new Counter({
    name: 'aauth_gateway_replay_store_full_total',
    help: 'Signed requests shed with 503 because the replay store was full of unexpired entries.',
    registers: [this.registry],
  })

  readonly storeErrors = new Counter({
    name: 'aauth_gateway_store_errors_total',
    help: 'State store operations that failed or timed out, by operation.',
    labelNames: ['op'] as const,
    registers: [this.registry],
  })

  readonly storeUp = new Gauge({
    name: 'aauth_gateway_store_up',
    help: '1 while the state store answers, 0 during an outage (then /readyz answers 503).',
    registers: [this.registry],
  })

  readonly storeFailOpen = new Counter({
    name: 'aauth_gateway_store_fail_open_total',
    help: 'Checks skipped because the state store was down and store.fail_open is true, by operation.',
    labelNames: ['op'] as const,
    registers: [this.registry],
  })

  readonly rateLimited = new Counter({
    name: 'aauth_gateway_rate_limited_total',
    help: 'Requests refused with 429 by their route\'s rate limit, by route.',
    labelNames: ['route'] as const,
    registers: [this.registry],
  })

  readonly configReloads = new Counter({
    name: 'aauth_gateway_config_reloads_total',
    help: 'Config reloads by result (ok, error, restart_required).',
    labelNames: ['result'] as const,
    registers: [this.registry],
  })

  readonly configLastReloadSuccessful = new Gauge({
    name: 'aauth_gateway_config_last_reload_successful',
    help: '1 when the last config load or reload was applied (ok or restart_required), 0 when it failed and the previous config serves.',
    registers: [this.registry],
  })

  readonly configLastReloadSuccessTimestamp = new Gauge({
    name: 'aauth_gateway_config_last_reload_success_timestamp_seconds',
    help: 'Unix time of the last config load or reload that was applied.',
    registers: [this.registry],
  })

  readonly buildInfo = new Gauge({
    name: 'aauth_gateway_build_info',
    help: 'Always 1; the version label says which gateway build is running.',
    labelNames: ['version'] as const,
    registers: [this.registry],
  })

  /** Requests that arrived and whose response has not closed yet (upgraded WebSockets included). */
  private inFlight = 0

  readonly requestsInFlight: Gauge = new Gauge({
    name: 'aauth_gateway_requests_in_flight',
    help: 'Requests being handled now: arrived, and their response not yet finished or closed.',
    registers: [this.registry],
    collect: (): void => this.requestsInFlight.set(this.inFlight),
  })

  private sizes: SizeSource | undefined

  readonly cacheEntries: Gauge<'cache'> = new Gauge({
    name: 'aauth_gateway_cache_entries',
    help: 'Entries held by each bounded cache (metadata, jwks, keys, tokens), read at scrape time.',
    labelNames: ['cache'] as const,
    registers: [this.registry],
    collect: (): void => {
      for (const [cache, size] of Object.entries(this.sizes?.caches() ?? {})) this.cacheEntries.set({ cache }, size)
    },
  })

  readonly storeEntries: Gauge<'store'> = new Gauge({
    name: 'aauth_gateway_store_entries',
    help: 'Entries held by each in-memory state store (replay, revocation), read at scrape time.',
    labelNames: ['store'] as const,
    registers: [this.registry],
    collect: (): void => {
      for (const [store, size] of Object.entries(this.sizes?.stores() ?? {})) this.storeEntries.set({ store }, size)
    },
  })

  constructor() {
    collectDefaultMetrics({ register: this.registry })
    this.buildInfo.set({ version: VERSION }, 1)
  }

  /** Where the cache and store sizes come from; read on every scrape, never on the request path. */
  observeSizes(source: SizeSource): void {
    this.sizes = source
  }

  /**
   * A request arrived on `res`: counted in flight until the response closes ('close' comes once
   * for every response, whether it finished or the connection died). A plain number, read by
   * the gauge at scrape time, keeps the request path free of label lookups.
   */
  arrived(res: ServerResponse): void {
    this.inFlight++
    res.once('close', this.left)
  }

  private readonly left = (): void => {
    this.inFlight--
  }

  /** The config that serves new requests was built at start (docs/metrics.md, docs/operations.md). */
  configLoaded(): void {
    this.configLastReloadSuccessful.set(1)
    this.configLastReloadSuccessTimestamp.set(Date.now() / 1000)
  }

  /** One reload ended with `result`: counted; the gauges say whether it is the one serving. */
  configReloaded(result: ReloadResult): void {
    this.configReloads.inc({ result })
    if (result === 'error') this.configLastReloadSuccessful.set(0)
    else this.configLoaded()
  }

  /** One discovery fetch ended. */
  fetched(result: string, kind: FetchKind): void {
    this.jwksFetches.inc({ result, kind })
  }

  /*
   * Metrics counted on the request path keep their label children (see `LabelChildren`).
   */
  private readonly tokenChildren = new LabelChildren((l) => this.tokenCache.labels(...l))
  private readonly requestChildren = new LabelChildren((l) => this.requests.labels(...l))
  private readonly durationChildren = new LabelChildren((l) => this.requestDuration.labels(...l))
  private readonly upstreamChildren = new LabelChildren((l) => this.upstreamDuration.labels(...l))
  private readonly verifyChildren = new LabelChildren((l) => this.verifyDuration.labels(...l))
  private readonly policyChildren = new LabelChildren((l) => this.policyDecisions.labels(...l))

  /** A verified-token cache lookup (src/tokens/cache.ts). */
  tokenLookup(result: 'hit' | 'miss'): void {
    this.tokenChildren.of(result).inc()
  }

  /** Counts one finished request (`requests_total` and `request_duration_seconds`). */
  finished(route: string, decision: Decision, reason: string, level: string, seconds: number): void {
    this.requestChildren.of(route, decision, reason, level).inc()
    this.durationChildren.of(route, decision).observe(seconds)
  }

  /** Time from dispatch until the upstream answer ended (or failed), by route and status class. */
  upstreamFinished(route: string, statusClass: string, seconds: number): void {
    this.upstreamChildren.of(route, statusClass).observe(seconds)
  }

  /** Key resolution and signature verification time, by Signature-Key scheme. */
  verified(scheme: string, seconds: number): void {
    this.verifyChildren.of(scheme).observe(seconds)
  }

  /** One policy evaluation. */
  policyDecided(route: string, policy: string, result: string, mode: string): void {
    this.policyChildren.of(route, policy, result, mode).inc()
  }
}

/**
 * The primary's own metrics when `workers` > 1 (docs/scaling.md). Its `/metrics` adds every
 * worker's `GatewayMetrics` up (prom-client's `AggregatorRegistry.aggregate`) and appends these.
 * No default process metrics here: summed with the workers' they would count the primary twice
 * in some and not at all in others.
 */
export class ClusterMetrics {
  readonly registry = new Registry()

  readonly workers = new Gauge({
    name: 'aauth_gateway_workers',
    help: 'Worker processes whose proxy listener is accepting connections.',
    registers: [this.registry],
  })

  readonly workerRestarts = new Counter({
    name: 'aauth_gateway_worker_restarts_total',
    help: 'Workers started again after one exited without being asked to.',
    registers: [this.registry],
  })

  readonly storeMessages = new Counter({
    name: 'aauth_gateway_store_ipc_messages_total',
    help: 'Messages from workers to the memory store in the primary (each carries a batch of operations).',
    registers: [this.registry],
  })

  readonly storeOperations = new Counter({
    name: 'aauth_gateway_store_ipc_operations_total',
    help: 'Store operations (replay, revocation, rate limit) workers asked of the primary.',
    registers: [this.registry],
  })
}

/**
 * A metric's label children, looked up once per label combination and kept (the label sets are
 * closed, so the map stays small): prom-client otherwise hashes the label object on every call,
 * which shows on the request path.
 */
class LabelChildren<T> {
  readonly #children = new Map<string, T>()

  constructor(private readonly make: (labels: string[]) => T) {}

  of(...labels: string[]): T {
    const key = labels.join('\0')
    let child = this.#children.get(key)
    if (child === undefined) this.#children.set(key, (child = this.make(labels)))
    return child
  }
}

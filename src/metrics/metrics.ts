import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client'

/** How a request ended (CONTRACT §8 `decision`). */
export type Decision = 'allow' | 'deny' | 'challenge' | 'error'

/**
 * How a config reload ended (docs/operations.md): `ok` swapped in the whole new config; `error`
 * kept the previous one (the new one is invalid); `restart_required` swapped in what applies
 * live while keys applied only at start (`listen`, `limits.header_timeout`, ...) kept their values.
 */
export type ReloadResult = 'ok' | 'error' | 'restart_required'

/**
 * Every metric of CONTRACT §8, on a registry owned by one gateway instance (no global state,
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
    help: 'Time until the upstream answered with headers, by route and status class.',
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
    help: 'Discovery and JWKS fetches by result.',
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

  readonly configReloads = new Counter({
    name: 'aauth_gateway_config_reloads_total',
    help: 'Config reloads by result (ok, error, restart_required).',
    labelNames: ['result'] as const,
    registers: [this.registry],
  })

  constructor() {
    collectDefaultMetrics({ register: this.registry })
  }

  /**
   * Counts one finished request. Label children are looked up once per label combination and
   * kept (the sets are closed, so the map stays small): prom-client otherwise hashes the label
   * object on every call, which shows on the hot path.
   */
  finished(route: string, decision: Decision, reason: string, level: string, seconds: number): void {
    const key = `${route}\0${decision}\0${reason}\0${level}`
    let children = this.children.get(key)
    if (children === undefined) {
      children = {
        count: this.requests.labels(route, decision, reason, level),
        duration: this.requestDuration.labels(route, decision),
      }
      this.children.set(key, children)
    }
    children.count.inc()
    children.duration.observe(seconds)
  }

  private readonly children = new Map<string, { count: Counter.Internal; duration: Histogram.Internal<string> }>()
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

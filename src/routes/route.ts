import type { AccessLevel } from '../identity.js'
import type { CompiledPolicy } from '../policy/compile.js'
import type { CompiledKeyExpression } from '../policy/key-expression.js'
import type { Matchable } from './match.js'

/** A route with everything the request path needs precomputed; never the raw YAML. */
export interface CompiledRoute extends Matchable {
  /**
   * `upstream`: a configured route, forwarded after the stages. `revocation`: the resource's
   * revocation endpoint, verified like a route and answered by the gateway (AAuth -11 §11.12).
   * `authorization`: the resource's authorization endpoint, likewise (AAuth -11 "Authorization
   * Endpoint Request").
   */
  readonly kind: 'upstream' | 'revocation' | 'authorization'
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

/** A document the gateway serves itself at the resource's origin (`/.well-known/...`). */
export interface DocumentRoute extends Matchable {
  readonly kind: 'document'
  /** The `route` label of its requests. */
  readonly name: string
  /** The JSON body, built once per snapshot. */
  readonly body: string
}

/**
 * The pending URLs of deferred challenges (`/aauth/pending/{id}`, docs/access-modes.md): a
 * prefix the gateway answers itself (src/resource/pending-poll.ts) while a route is `deferred`.
 */
export interface PendingRoute extends Matchable {
  readonly kind: 'pending'
  readonly name: string
}

/**
 * One entry of the routing table: a configured route, or one of the resource's own endpoints
 * (src/resource/endpoints.ts). Both are matched by the same rules, so which one answers a path
 * is decided in one place; config compile refuses a route the endpoints would shadow.
 */
export type RouteEntry = CompiledRoute | DocumentRoute | PendingRoute

/**
 * A route's CORS (docs/operations.md "CORS"; Fetch standard §3.2 "CORS protocol"), answered by
 * src/proxy/cors.ts. CORS for agents running in a browser (docs/operations.md "CORS"; Fetch standard §3.2 "CORS protocol").
 * A route lists the origins it serves (`cors.origins`). Only those origins get CORS headers;
 * for any other the gateway behaves as if CORS did not exist, so the browser refuses to hand
 * the answer to the page.
 */
export interface RouteCors {
  readonly origins: ReadonlySet<string>
  /** `Access-Control-Allow-Methods` for a route with `match.methods`; otherwise the method asked for. */
  readonly methods: string | undefined
}

export function compileCors(origins: readonly string[], methods: readonly string[] | undefined): RouteCors {
  return { origins: new Set(origins), methods: methods?.join(', ') }
}

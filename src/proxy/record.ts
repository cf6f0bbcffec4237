import type { ReasonCode, StreamEnd } from '../errors.js'
import type { Decision } from '../metrics/metrics.js'
import type { RequestContext } from '../pipeline/context.js'
import type { GatewayServices } from '../services.js'

/** The `route` label of requests that matched no route (docs/metrics.md). */
export const NO_ROUTE = '(none)'

/** nginx's code for "the client closed the connection before an answer": logged, never sent. */
const CLIENT_CLOSED_STATUS = 499

/** `preflight`: a CORS preflight answered 204 before verification (src/proxy/cors.ts). */
export type RecordReason = ReasonCode | 'ok' | 'shadow_deny' | 'preflight'

export interface RecordOptions {
  /** The `route` label, when it is not the matched route's name (the well-known documents). */
  route?: string
  /** The decision line's `detail`: what went wrong, including what the client is not told. */
  detail?: string
}

/** Counts and logs one finished request: exactly one call per request, however it ended. */
export function record(ctx: RequestContext, status: number, decision: Decision, reason: RecordReason, options: RecordOptions = {}): void {
  const route = options.route ?? ctx.route?.name ?? NO_ROUTE
  const seconds = Number(process.hrtime.bigint() - ctx.startedAt) / 1e9
  const id = ctx.identity
  ctx.services.metrics.finished(route, decision, reason, id.level, seconds)
  ctx.services.log.write({
    request_id: ctx.requestId,
    route,
    method: ctx.signed.method,
    // A refused target is logged as received (the parser let only visible ASCII through), so
    // the line says what was refused; the metric labels never carry it.
    path: typeof ctx.target === 'string' ? (ctx.req.url ?? '') : ctx.signed.path,
    status,
    decision,
    reason,
    aauth_level: id.level,
    scheme: id.scheme,
    agent: id.agent,
    delegate: id.agentDelegate,
    user: id.user,
    policy: ctx.policy?.policy ?? '',
    rule: ctx.policy?.rule ?? ctx.policy?.error ?? '',
    rule_at: ctx.policy?.where ?? '',
    mode: ctx.route?.mode ?? '',
    latency_ms: Math.round(seconds * 1e6) / 1e3,
    detail: options.detail ?? '',
  })
}

/** Parser refusals of connections that had a request in flight, by connection. */
const refusedMidRequest = new WeakMap<object, { status: number; reason: ReasonCode }>()

/**
 * Notes that the HTTP parser refused what followed a request already in the handler (a
 * malformed chunk, a body cut by the client's FIN): that request's own line then carries the
 * refusal, rather than the listener writing a second line for it.
 */
export function markParserRefusal(socket: object, status: number, reason: ReasonCode): void {
  refusedMidRequest.set(socket, { status, reason })
}

/**
 * Records a request cut before its exchange completed: by the client, by the upstream after
 * the answer started, or by the gateway's own shutdown deadline (which closes connections, so
 * it is told apart by the lifecycle rather than by the socket), or by the parser refusing the
 * rest of it.
 */
export function recordEnd(ctx: RequestContext, status: number, end: StreamEnd, detail?: string): void {
  const refused = end === 'client_closed' ? refusedMidRequest.get(ctx.socket) : undefined
  if (refused !== undefined) return record(ctx, refused.status, 'error', refused.reason, { detail: 'the parser refused the rest of this request' })
  const why: StreamEnd = ctx.services.lifecycle.cutting && end !== 'upstream_reset' ? 'shutdown' : end
  record(ctx, status === 0 ? CLIENT_CLOSED_STATUS : status, 'error', why, { detail: detail ?? END_DETAIL[why] })
}

const END_DETAIL: Record<StreamEnd, string> = {
  client_closed: 'the client closed the connection before the answer was complete',
  upstream_reset: 'the upstream connection failed after its answer had started; the client connection was cut',
  shutdown: 'cut at the end of the drain (limits.drain_timeout)',
}

/**
 * Records a request the HTTP parser refused before any handler saw it (400, 408, 431): no
 * route, method or path is known, but it is still a line and a sample.
 */
export function recordParserRefusal(services: GatewayServices, status: number, reason: ReasonCode, requestId: string, detail: string): void {
  services.metrics.finished(NO_ROUTE, 'error', reason, 'none', 0)
  services.log.write({
    request_id: requestId,
    route: NO_ROUTE,
    method: '',
    path: '',
    status,
    decision: 'error',
    reason,
    aauth_level: 'none',
    scheme: '',
    agent: '',
    delegate: '',
    user: '',
    policy: '',
    rule: '',
    rule_at: '',
    mode: '',
    latency_ms: 0,
    detail,
  })
}

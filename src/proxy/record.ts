import type { ReasonCode, StreamEnd } from '../errors.js'
import type { Decision } from '../metrics/metrics.js'
import type { RequestContext } from '../pipeline/context.js'
import type { GatewayServices } from '../services.js'

/** The `route` label of requests that matched no route (CONTRACT §8). */
export const NO_ROUTE = '(none)'
/** The `route` label of the resource's own documents (`/.well-known/...`). */
export const WELL_KNOWN = '(well-known)'

/** nginx's code for "the client closed the connection before an answer": logged, never sent. */
const CLIENT_CLOSED_STATUS = 499

export type RecordReason = ReasonCode | 'ok' | 'shadow_deny'

/** Counts and logs one finished request: exactly one call per request, however it ended. */
export function record(ctx: RequestContext, status: number, decision: Decision, reason: RecordReason, route = ctx.route?.name ?? NO_ROUTE): void {
  const seconds = Number(process.hrtime.bigint() - ctx.startedAt) / 1e9
  const id = ctx.identity
  ctx.services.metrics.finished(route, decision, reason, id.level, seconds)
  ctx.services.log.write({
    time: new Date().toISOString(),
    route,
    method: ctx.signed.method,
    // A refused target is logged as received (the parser let only visible ASCII through), so
    // the line says what was refused; the metric labels never carry it.
    path: typeof ctx.target === 'string' ? (ctx.req.url ?? '') : ctx.signed.path,
    status,
    decision,
    reason,
    level: id.level,
    scheme: id.scheme,
    agent: id.agent,
    delegate: id.agentDelegate,
    user: id.user,
    policy: ctx.policy?.policy ?? '',
    rule: ctx.policy?.rule ?? ctx.policy?.error ?? '',
    rule_at: ctx.policy?.where ?? '',
    mode: ctx.route?.mode ?? '',
    latency_ms: Math.round(seconds * 1e6) / 1e3,
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
export function recordEnd(ctx: RequestContext, status: number, end: StreamEnd): void {
  const refused = end === 'client_closed' ? refusedMidRequest.get(ctx.socket) : undefined
  if (refused !== undefined) return record(ctx, refused.status, 'error', refused.reason)
  const why: StreamEnd = ctx.services.lifecycle.cutting && end !== 'upstream_reset' ? 'shutdown' : end
  record(ctx, status === 0 ? CLIENT_CLOSED_STATUS : status, 'error', why)
}

/**
 * Records a request the HTTP parser refused before any handler saw it (400, 408, 431): no
 * route, method or path is known, but it is still a line and a sample.
 */
export function recordParserRefusal(services: GatewayServices, status: number, reason: ReasonCode): void {
  services.metrics.finished(NO_ROUTE, 'error', reason, 'none', 0)
  services.log.write({
    time: new Date().toISOString(),
    route: NO_ROUTE,
    method: '',
    path: '',
    status,
    decision: 'error',
    reason,
    level: 'none',
    scheme: '',
    agent: '',
    delegate: '',
    user: '',
    policy: '',
    rule: '',
    rule_at: '',
    mode: '',
    latency_ms: 0,
  })
}

import type { IncomingMessage, ServerResponse } from 'node:http'
import type { Snapshot } from '../config/compile.js'
import { LocalReplyError, type ReasonCode } from '../errors.js'
import { renderError, type LocalReply } from '../http/render.js'
import type { Decision } from '../metrics/metrics.js'
import { createContext, type RequestContext } from '../pipeline/context.js'
import { stages } from '../pipeline/stages.js'
import type { GatewayServices } from '../services.js'
import type { Forwarder } from './forward.js'
import { handleRevocation } from '../resource/revocation.js'
import { REVOCATION_PATH } from '../resource/metadata.js'

/** Where the current snapshot lives; a reload replaces `current` in one assignment. */
export interface SnapshotHolder {
  readonly current: Snapshot
}

/**
 * The proxy listener's request handler: well-known documents, then the stage chain, then either
 * the upstream or one local reply. Each request reads the snapshot once, at arrival.
 */
export function createHandler(holder: SnapshotHolder, services: GatewayServices, forwarder: Forwarder) {
  return async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const snapshot = holder.current
    if (req.method === 'GET' && serveWellKnown(req.url, snapshot, res)) return
    const ctx = createContext(req, res, snapshot, services)
    if (ctx.signed.path === REVOCATION_PATH && snapshot.resource.signingKey) return revoke(ctx)
    try {
      for (const stage of stages) await stage(ctx)
    } catch (err) {
      return finish(ctx, localReply(ctx, err))
    }
    const route = ctx.route
    if (route === undefined) return finish(ctx, localReply(ctx, new Error('no route after stages')))
    const upstreamStart = process.hrtime.bigint()
    // Registered before forwarding: a small upstream answer can finish before `forward` resolves,
    // so the status logged is the one written to the response, not `forward`'s result.
    const onFinish = (): void => record(ctx, res.statusCode, 'allow', ctx.policy?.result === 'deny' ? 'shadow_deny' : 'ok')
    res.once('finish', onFinish)
    try {
      const status = await forwarder.forward(ctx, route)
      services.metrics.upstreamDuration.observe(
        { route: route.name, status_class: `${Math.floor(status / 100)}xx` },
        Number(process.hrtime.bigint() - upstreamStart) / 1e9,
      )
    } catch (err) {
      res.off('finish', onFinish)
      services.metrics.upstreamDuration.observe(
        { route: route.name, status_class: 'error' },
        Number(process.hrtime.bigint() - upstreamStart) / 1e9,
      )
      finish(ctx, localReply(ctx, err))
    }
  }
}

/** The revocation endpoint answers 200 with an empty body, or a local reply; never forwards. */
async function revoke(ctx: RequestContext): Promise<void> {
  try {
    if (ctx.signed.method !== 'POST') throw new LocalReplyError('method_not_allowed', 'the revocation endpoint takes POST')
    await handleRevocation(ctx)
  } catch (err) {
    return finish(ctx, localReply(ctx, err))
  }
  ctx.res.writeHead(200, { 'content-length': 0, 'cache-control': 'no-store' }).end()
  record(ctx, 200, 'allow', 'ok')
}

function localReply(ctx: RequestContext, err: unknown): LocalReply {
  const reply = renderError(err, ctx.snapshot.accept)
  if (reply.status === 500) console.error('aauth-gateway: internal error', err)
  return reply
}

/** Writes a local reply. A request whose body was not read is closed rather than drained. */
function finish(ctx: RequestContext, reply: LocalReply): void {
  const { res, req } = ctx
  if (res.headersSent) {
    res.destroy()
  } else {
    const body = JSON.stringify(reply.body)
    const headers: Record<string, string | number> = { ...reply.headers, 'content-length': Buffer.byteLength(body) }
    // An unread body would be parsed as the next request: close instead of draining it.
    if (!req.complete) headers.connection = 'close'
    res.writeHead(reply.status, headers)
    res.end(body)
  }
  record(ctx, reply.status, reply.decision, reply.reason)
}

function record(ctx: RequestContext, status: number, decision: Decision, reason: ReasonCode | 'ok' | 'shadow_deny'): void {
  const seconds = Number(process.hrtime.bigint() - ctx.startedAt) / 1e9
  const route = ctx.route?.name ?? ''
  const { metrics, log } = ctx.services
  metrics.finished(route, decision, reason, ctx.identity.level, seconds)
  const id = ctx.identity
  log.write({
    time: new Date().toISOString(),
    route,
    method: ctx.signed.method,
    path: ctx.signed.path,
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

function serveWellKnown(url: string | undefined, snapshot: Snapshot, res: ServerResponse): boolean {
  const body = url === undefined ? undefined : snapshot.wellKnown.get(url)
  if (body === undefined) return false
  res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'max-age=300', 'content-length': Buffer.byteLength(body) })
  res.end(body)
  return true
}

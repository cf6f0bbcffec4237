import type { IncomingMessage, ServerResponse } from 'node:http'
import type { Snapshot } from '../config/compile.js'
import type { CompiledRoute } from '../routes/route.js'
import { LocalReplyError } from '../errors.js'
import { renderError, type LocalReply } from '../http/render.js'
import { createContext, type RequestContext } from '../pipeline/context.js'
import { checkMessage } from '../pipeline/message.js'
import { matchRoute } from '../pipeline/route.js'
import { routeStages } from '../pipeline/stages.js'
import type { GatewayServices } from '../services.js'
import type { Forwarder } from './forward.js'
import { handleRevocation } from '../resource/revocation-endpoint.js'
import { handleAuthorization } from '../resource/authorization-endpoint.js'
import type { DocumentRoute } from '../routes/route.js'
import { record, recordEnd } from './record.js'
import { handlePendingPoll } from '../resource/pending-poll.js'
import { answerPreflight, corsHeaders } from './cors.js'

const END_AFTER_START = 'the answer had started when this failure came; the client connection was cut'

/** Where the current snapshot lives; a reload replaces `current` in one assignment. */
export interface SnapshotHolder {
  readonly current: Snapshot
}

/**
 * The proxy listener's request handler: the message check, routing (where the resource's own
 * endpoints, well-known documents and revocation, are entries of the table), then the stage chain, then either the upstream or one
 * local reply. Each request reads the snapshot once, at arrival, and is recorded exactly once
 * (decision line and metrics), however it ends.
 */
export function createHandler(holder: SnapshotHolder, services: GatewayServices, forwarder: Forwarder) {
  return async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    // While draining, answers close their connection so clients move to another instance.
    if (services.lifecycle.draining) res.shouldKeepAlive = false
    const ctx = createContext(req, res, holder.current, services)
    const route = await admit(ctx, true)
    if (route === undefined) return
    const upstreamStart = process.hrtime.bigint()
    let outcome
    try {
      outcome = await forwarder.forward(ctx, route)
    } catch (err) {
      observeUpstream(ctx, route.name, 'error', upstreamStart)
      return finish(ctx, localReply(ctx, err))
    }
    observeUpstream(ctx, route.name, outcome.status === 0 ? 'error' : `${Math.floor(outcome.status / 100)}xx`, upstreamStart)
    if (outcome.end === 'complete') record(ctx, outcome.status, 'allow', ctx.policy?.result === 'deny' ? 'shadow_deny' : 'ok')
    else recordEnd(ctx, outcome.status, outcome.end)
  }
}

/**
 * Runs the message check, routing and the stage chain. Resolves the route to forward to, or
 * `undefined` when the request was answered here. `endpoints` is false for a WebSocket upgrade:
 * the resource's own endpoints and CORS preflights are plain requests, so an upgrade to one is
 * answered `route_not_found`.
 */
export async function admit(ctx: RequestContext, endpoints: boolean): Promise<CompiledRoute | undefined> {
  try {
    checkMessage(ctx)
    // Browsers never sign a preflight: it is answered before the stages that verify.
    if (endpoints && answerPreflight(ctx)) return undefined
    const entry = matchRoute(ctx)
    if (entry.kind !== 'upstream' && !endpoints) {
      throw new LocalReplyError('route_not_found', 'the resource\'s own endpoints do not upgrade to WebSocket')
    }
    if (entry.kind === 'document') return serveDocument(ctx, entry)
    if (entry.kind === 'revocation') return await revoke(ctx)
    if (entry.kind === 'authorization') return await authorize(ctx)
    // A pending URL of a deferred challenge (docs/access-modes.md): answered here, never forwarded.
    if (entry.kind === 'pending') return void (await handlePendingPoll(ctx))
    for (const stage of routeStages) await stage(ctx)
    return entry
  } catch (err) {
    finish(ctx, localReply(ctx, err))
    return undefined
  }
}

function observeUpstream(ctx: RequestContext, route: string, statusClass: string, since: bigint): void {
  ctx.services.metrics.upstreamFinished(route, statusClass, Number(process.hrtime.bigint() - since) / 1e9)
}

/** The revocation endpoint answers 200 with an empty body, or a local reply; never forwards. */
async function revoke(ctx: RequestContext): Promise<undefined> {
  await handleRevocation(ctx)
  ctx.res.writeHead(200, { 'content-length': 0, 'cache-control': 'no-store' }).end()
  record(ctx, 200, 'allow', 'ok')
  return undefined
}

/** The authorization endpoint answers 200 JSON (and `AAuth-Access` when it granted), or a local reply. */
async function authorize(ctx: RequestContext): Promise<undefined> {
  const settings = ctx.snapshot.resource.authorization
  if (settings === undefined) throw new Error('authorization endpoint routed without resource.authorization')
  const answer = await handleAuthorization(ctx, settings, (ctx.services.clock ?? Date.now)())
  const body = JSON.stringify(answer.body)
  const headers: Record<string, string | number> = { 'content-type': 'application/json', 'cache-control': 'no-store', 'content-length': Buffer.byteLength(body) }
  if (answer.sessionToken !== undefined) headers['aauth-access'] = answer.sessionToken
  ctx.res.writeHead(200, headers).end(body)
  record(ctx, 200, 'allow', 'ok')
  return undefined
}

export function localReply(ctx: RequestContext, err: unknown): LocalReply {
  const reply = renderError(err, ctx.snapshot)
  if (reply.status === 500) ctx.services.logger.error({ err, request_id: ctx.requestId }, 'internal error while handling a request')
  return reply
}

/**
 * Writes a local reply (with the request id set at arrival, and CORS headers on a CORS route).
 * A request whose body was not read is closed rather than drained: its unread bytes must never
 * be parsed as the next request on the connection. A request without a body, or whose body was
 * read, keeps its connection (a 401 challenge is usually followed by a signed retry on it). A
 * connection that is gone, or that the listener already ended (a parser refusal mid-request),
 * gets no reply.
 */
export function finish(ctx: RequestContext, reply: LocalReply): void {
  const { res, req } = ctx
  if (res.destroyed || ctx.socket.destroyed || !ctx.socket.writable) return recordEnd(ctx, 0, 'client_closed')
  if (res.headersSent) {
    res.destroy()
    return recordEnd(ctx, res.statusCode, 'upstream_reset', `${END_AFTER_START}: ${reply.logDetail}`)
  }
  const body = JSON.stringify(reply.body)
  const headers: Record<string, string | number> = { ...reply.headers, ...corsHeaders(ctx), 'content-length': Buffer.byteLength(body) }
  if (!req.complete) headers.connection = 'close'
  res.writeHead(reply.status, headers)
  res.end(body)
  record(ctx, reply.status, reply.decision, reply.reason, { detail: reply.logDetail })
}

function serveDocument(ctx: RequestContext, document: DocumentRoute): undefined {
  const { body } = document
  ctx.res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'max-age=300', 'content-length': Buffer.byteLength(body) })
  ctx.res.end(body)
  record(ctx, 200, 'allow', 'ok', { route: document.name })
  return undefined
}

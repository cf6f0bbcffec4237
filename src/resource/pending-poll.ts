import { LocalReplyError, RequirementError } from '../errors.js'
import type { CompiledRoute } from '../routes/route.js'
import { checkRouteAccess } from '../pipeline/access.js'
import type { RequestContext } from '../pipeline/context.js'
import { applyPolicy } from '../pipeline/policy.js'
import { rememberSignature, verifySignature } from '../pipeline/verify.js'
import { record } from '../proxy/record.js'
import { parseRequestTarget } from '../request/target.js'
import { ALWAYS_REQUIRED_COMPONENTS } from '../signature/components.js'
import type { ValueStore } from '../store/types.js'
import {
  executeHeld,
  PENDING_LIFETIME_SECONDS,
  PENDING_PATH_PREFIX,
  PENDING_RETRY_AFTER_SECONDS,
  pendingIdOf,
  readPending,
  type CompletedRequest,
  type PendingRequest,
} from './deferred.js'

const unknown = (): LocalReplyError => new LocalReplyError('pending_unknown', 'no pending request at this URL')

/**
 * `GET /aauth/pending/{id}` (AAuth -11 "Deferred Responses", §6.5.1; docs/access-modes.md):
 *  - signed by the key the held request was signed with, or it is a 404 (as for any unknown
 *    id: a pending URL tells nobody else that it exists); unsigned is `requirement=agent-token`;
 *  - without an auth token that satisfies the held request's route: `202` again, with the
 *    resource token (a fresh one when the poll's token calls for a step-up);
 *  - with one: the route's policy is applied to the held request, which is then sent upstream
 *    with the poll's identity; its answer is the poll's answer and is kept until the auth
 *    token's `exp`, so the same token polling again gets it again (never a second execution),
 *    and any other gets `410`.
 */
export async function handlePendingPoll(ctx: RequestContext): Promise<void> {
  if (ctx.signed.method !== 'GET') throw new LocalReplyError('method_not_allowed', 'a pending URL is polled with GET', { allow: ['GET'] })
  const store = ctx.services.store.pending
  if (store === undefined) throw unknown()
  const id = pendingIdOf(ctx.signed.path)
  const held = await readPending(store, id)
  if (held === undefined) throw unknown()
  const configured = ctx.snapshot.routesByName ?? new Map<string, CompiledRoute>()
  const route = held.state === 'pending' ? configured.get(held.route) : undefined
  if (held.state === 'pending' && route === undefined) throw new LocalReplyError('pending_gone', 'the route of this pending request was removed')
  // The poll is a body-less GET: it signs the base components, whatever the held route needs.
  ctx.route = route === undefined ? undefined : { ...route, requiredComponents: ALWAYS_REQUIRED_COMPONENTS }
  if (ctx.route === undefined) {
    // A completed request needs no route but a verification view: any configured one will do.
    const [any] = configured.values()
    if (any === undefined) throw unknown()
    ctx.route = { ...any, requiredComponents: ALWAYS_REQUIRED_COMPONENTS }
  }
  await verifySignature(ctx)
  if (ctx.signature === null) throw new RequirementError('agent-token', 'poll a pending URL with a signed GET', undefined, true)
  if (ctx.identity.thumbprint !== held.agentJkt) throw unknown()
  await rememberSignature(ctx)
  const jti = typeof ctx.identity.claims.jti === 'string' ? ctx.identity.claims.jti : undefined

  if (held.state === 'completed') {
    if (ctx.identity.level === 'authorized' && jti === held.jti) return answer(ctx, held)
    throw new LocalReplyError('pending_gone', 'this pending request has completed')
  }
  if (route === undefined) throw unknown()
  ctx.route = route
  const location = PENDING_PATH_PREFIX + id
  if (ctx.identity.level !== 'authorized' || jti === undefined) {
    throw new RequirementError('auth-token', 'still waiting for an auth token', held.resourceToken).deferTo(location, PENDING_RETRY_AFTER_SECONDS)
  }
  try {
    await checkRouteAccess(ctx, route, false)
  } catch (err) {
    if (!(err instanceof RequirementError) || err.resourceToken === undefined) throw err
    await store.put(id, JSON.stringify({ ...held, resourceToken: err.resourceToken } satisfies PendingRequest), PENDING_LIFETIME_SECONDS)
    throw err.deferTo(location, PENDING_RETRY_AFTER_SECONDS)
  }

  // One execution per auth token, even for two polls at once: the second waits for the first.
  const claim = await ctx.services.store.replay.remember(`pending ${id} ${jti}`, route.timeoutMs / 1000 + 5)
  if (claim.outcome !== 'added') {
    throw new RequirementError('auth-token', 'the held request is being executed', held.resourceToken).deferTo(location, 1)
  }
  const heldCtx = heldContext(ctx, held)
  applyPolicy(heldCtx)
  ctx.policy = heldCtx.policy
  const result = await executeHeld(heldCtx, route)
  const exp = typeof ctx.identity.claims.exp === 'number' ? ctx.identity.claims.exp : 0
  const completed: CompletedRequest = { state: 'completed', agentJkt: held.agentJkt, jti, ...result }
  await keep(store, id, completed, exp - Math.floor(Date.now() / 1000))
  answer(ctx, completed)
}

/** The held request's own context: its method, target and headers, with the poll's identity. */
function heldContext(ctx: RequestContext, held: PendingRequest): RequestContext {
  const target = parseRequestTarget(held.target)
  if (typeof target === 'string') throw new Error(`a held target no longer parses: ${target}`)
  ctx.req.headers = { ...held.headers }
  return {
    ...ctx,
    target,
    signed: { ...ctx.signed, method: held.method, path: target.path, query: target.query === '' ? '?' : target.query, headers: ctx.req.headers },
  }
}

/** Kept until the auth token expires (-11 §6.5.1: at least that long), at least a second. */
async function keep(store: ValueStore, id: string, completed: CompletedRequest, ttlSeconds: number): Promise<void> {
  await store.put(id, JSON.stringify(completed), Math.max(1, ttlSeconds))
}

function answer(ctx: RequestContext, completed: CompletedRequest): void {
  const body = Buffer.from(completed.body, 'base64')
  ctx.res.writeHead(completed.status, { ...completed.headers, 'x-request-id': ctx.requestId, 'content-length': body.length })
  ctx.res.end(body)
  record(ctx, completed.status, 'allow', 'ok')
}

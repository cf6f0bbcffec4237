import type { CompiledRoute, RouteEntry } from '../routes/route.js'
import type { RequestContext } from './context.js'

/**
 * Finds the routing-table entry for the request. A configured route, or the revocation
 * or authorization endpoint, becomes `ctx.route` for the stages after; a document or pending
 * entry is answered as it is.
 */
export function matchRoute(ctx: RequestContext): RouteEntry {
  const entry = ctx.snapshot.routes.match(ctx.host, ctx.signed.path, ctx.signed.method)
  // A pending poll finds its route in the held request (src/resource/pending-poll.ts).
  if (entry.kind !== 'document' && entry.kind !== 'pending') ctx.route = entry
  return entry
}

/** The matched route; stages after `matchRoute` may rely on it. */
export function routeOf(ctx: RequestContext): CompiledRoute {
  if (ctx.route === undefined) throw new Error('stage ran before matchRoute')
  return ctx.route
}

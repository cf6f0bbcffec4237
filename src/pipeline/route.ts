import type { CompiledRoute } from '../config/compile.js'
import type { RequestContext } from './context.js'

export function matchRoute(ctx: RequestContext): void {
  ctx.route = ctx.snapshot.routes.match(ctx.host, ctx.signed.path, ctx.signed.method)
}

/** The matched route; stages after `matchRoute` may rely on it. */
export function routeOf(ctx: RequestContext): CompiledRoute {
  if (ctx.route === undefined) throw new Error('stage ran before matchRoute')
  return ctx.route
}

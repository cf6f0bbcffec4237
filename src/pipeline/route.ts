import type { CompiledRoute } from '../config/compile.js'
import type { RequestContext } from './context.js'

export function matchRoute(ctx: RequestContext): void {
  ctx.route = ctx.snapshot.routes.match(ctx.req.headers.host ?? '', ctx.signed.path, ctx.signed.method)
}

/**
 * Every inbound `x-aauth-*` header is removed, on every route (CONTRACT §5): only the gateway
 * speaks for identity upstream.
 */
export function stripForgedIdentity(ctx: RequestContext): void {
  const headers = ctx.req.headers
  for (const name in headers) {
    if (name.charCodeAt(0) === 0x78 /* x */ && name.startsWith('x-aauth-')) delete headers[name]
  }
}

/** The matched route; stages after `matchRoute` may rely on it. */
export function routeOf(ctx: RequestContext): CompiledRoute {
  if (ctx.route === undefined) throw new Error('stage ran before matchRoute')
  return ctx.route
}

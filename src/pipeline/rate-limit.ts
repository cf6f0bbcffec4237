import type { CompiledRateLimit, CompiledRoute } from '../routes/route.js'
import { LocalReplyError } from '../errors.js'
import { buildPolicyContext, policyRequestFrom } from '../policy/context.js'
import { targetOf, type RequestContext } from './context.js'
import { routeOf } from './route.js'

/**
 * A route's `rate_limit` (docs/state-store.md "Rate limits"): counts the request against its
 * key in the state store, shared by every instance, and refuses it with 429 and `Retry-After`
 * over the limit. Runs once the identity is established (signature verified, access level met)
 * and before the policy, so a request is counted whatever the policy then decides, and a
 * request refused earlier (401, 404) is not. The answer, forwarded or local, carries the
 * route's quota and what is left of it (draft-ietf-httpapi-ratelimit-headers-10: `RateLimit-Policy`
 * and `RateLimit`, one policy named "default").
 */
export function checkRateLimit(ctx: RequestContext): void | Promise<void> {
  const route = routeOf(ctx)
  const limit = route.rateLimit
  // Synchronous on routes without a limit: no promise on the hot path for nothing.
  if (limit === undefined) return
  return count(ctx, route, limit)
}

async function count(ctx: RequestContext, route: CompiledRoute, limit: CompiledRateLimit): Promise<void> {
  // The window is part of the key: after a reload changes `per`, old windows are not reused.
  const decision = await ctx.services.store.rates.hit(`${route.name} ${limit.per} ${rateKeyOf(ctx, limit)}`, limit.requests, limit.per)
  ctx.res.setHeader('ratelimit-policy', limit.policyHeader)
  if (decision.failedOpen !== true) ctx.res.setHeader('ratelimit', `"default";r=${decision.remaining};t=${decision.resetSeconds}`)
  if (decision.allowed) return
  ctx.services.metrics.rateLimited.inc({ route: route.name })
  throw new LocalReplyError('rate_limited', `this route allows ${limit.requests} requests per ${limit.per} s for each caller; retry after ${decision.resetSeconds} s`, {
    retryAfterSeconds: decision.resetSeconds,
  })
}

/**
 * Whom a request counts against. A signed request: the route's `key` expression over the
 * policy variables; if it fails to evaluate, is not a string or is empty (say `aauth.agent`
 * for an `hwk` signature), the thumbprint of the key that signed it. An unsigned request (open
 * routes): the client's address as the connection shows it. Each kind is tagged, so an
 * expression's value can never be mistaken for a thumbprint or an address.
 */
export function rateKeyOf(ctx: RequestContext, limit: CompiledRateLimit): string {
  const identity = ctx.identity
  if (identity.level !== 'none') {
    const target = targetOf(ctx)
    const request = policyRequestFrom(ctx.signed.method, target.path + target.query, ctx.host, ctx.req.headers)
    const value = limit.key.evaluate(buildPolicyContext(identity, request, limit.key.reads, new Date()))
    if (value !== undefined && value !== '') return `key:${value}`
    if (identity.thumbprint !== '') return `jkt:${identity.thumbprint}`
  }
  return `addr:${ctx.req.socket.remoteAddress ?? ''}`
}

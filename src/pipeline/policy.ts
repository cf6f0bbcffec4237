import { PolicyDenied } from '../errors.js'
import { buildPolicyContext, policyRequestFrom } from '../policy/context.js'
import { evaluatePolicy } from '../policy/evaluate.js'
import { targetOf, type PolicyOutcome, type RequestContext } from './context.js'
import { routeOf } from './route.js'

/** Stands in for `now` when no rule reads it (the context then leaves it out). */
const EPOCH = new Date(0)

/**
 * Evaluates the route's CEL policy over the verified identity (README "Policies"). In `shadow` mode
 * the decision is recorded and counted, and the request goes through whatever it was.
 */
export function applyPolicy(ctx: RequestContext): void {
  const route = routeOf(ctx)
  const policy = route.policy
  if (policy === undefined) return
  const target = targetOf(ctx)
  const request = policyRequestFrom(ctx.signed.method, target.path + target.query, ctx.host, ctx.req.headers)
  const decision = evaluatePolicy(policy, buildPolicyContext(ctx.identity, request, policy.reads, policy.reads.has('now') ? new Date() : EPOCH))
  const rule = decision.rule ? `${decision.rule.kind}: ${decision.rule.source}` : undefined
  const where = decision.rule ? `${decision.rule.file}:${decision.rule.line}` : undefined
  ctx.policy = { policy: policy.name, result: decision.result, rule, where, error: decision.error }
  ctx.services.metrics.policyDecided(route.name, policy.name, decision.result, route.mode)
  if (decision.result === 'deny' && route.mode === 'enforce') {
    // The rule's file and line stay in the decision log: a client has no use for server paths.
    const detail = `policy "${policy.name}" denied this request: ${decision.detail}${decision.error ? `: ${decision.error}` : ''}`
    throw new PolicyDenied(policy.name, rule ?? decision.detail, detail)
  }
}

import type { PolicyContext } from './context.js'
import { celSummary, type CompiledPolicy, type CompiledRule, type RuleSource } from './compile.js'

/**
 * Decides a request under one policy (README "Policies"): a matching `deny` denies; every `require`
 * must hold; if any `allow` rules exist, one must match. Fail closed: a rule that throws or
 * yields a non-bool counts against the request wherever it could change the outcome:
 *  - a failing `deny` or `require` denies;
 *  - a failing `allow` is treated as not matching, like an error on one side of CEL's `||`:
 *    it denies when no other allow matches, and can never be what lets a request through.
 * Denies are checked first, then requires, then allows, each in file order, stopping at the
 * first rule that settles the decision.
 */

export type DecisionReason = 'allowed' | 'deny_matched' | 'require_failed' | 'no_allow_matched' | 'error'

export interface PolicyDecision {
  readonly result: 'allow' | 'deny'
  readonly reason: DecisionReason
  /** The rule that decided; absent for `no_allow_matched` and when a policy without allow rules allows. */
  readonly rule?: RuleSource
  /** Why `rule` failed to evaluate (reason `error`): cel-js's one-line summary and column. */
  readonly error?: string
  /** One line for the decision log, or `PolicyDenied`'s detail. */
  readonly detail: string
}

export function evaluatePolicy(policy: CompiledPolicy, ctx: PolicyContext): PolicyDecision {
  for (const rule of policy.rules) {
    if (rule.kind !== 'deny') continue
    const r = run(rule, ctx)
    if (r === true) return decided('deny', 'deny_matched', rule, 'a deny rule matched')
    if (r !== false) return failed(rule, r)
  }
  for (const rule of policy.rules) {
    if (rule.kind !== 'require') continue
    const r = run(rule, ctx)
    if (r === false) return decided('deny', 'require_failed', rule, 'a required condition does not hold')
    if (r !== true) return failed(rule, r)
  }
  let hasAllow = false
  let firstFailure: [CompiledRule, string] | undefined
  for (const rule of policy.rules) {
    if (rule.kind !== 'allow') continue
    hasAllow = true
    const r = run(rule, ctx)
    if (r === true) return decided('allow', 'allowed', rule, 'an allow rule matched')
    if (r !== false) firstFailure ??= [rule, r]
  }
  if (firstFailure) return failed(...firstFailure)
  if (hasAllow) return { result: 'deny', reason: 'no_allow_matched', detail: 'no allow rule matched' }
  return { result: 'allow', reason: 'allowed', detail: 'no rule denied' }
}

/** The rule's value, or the message of why it has none. */
function run(rule: CompiledRule, ctx: PolicyContext): boolean | string {
  try {
    return rule.evaluate(ctx)
  } catch (err) {
    return celSummary(err)
  }
}

function decided(
  result: 'allow' | 'deny',
  reason: DecisionReason,
  rule: RuleSource,
  detail: string,
): PolicyDecision {
  return { result, reason, rule, detail }
}

function failed(rule: RuleSource, error: string): PolicyDecision {
  return { result: 'deny', reason: 'error', rule, error, detail: `${rule.kind} rule failed to evaluate: ${error}` }
}

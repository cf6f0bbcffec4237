import type { ParseResult } from '@marcbachmann/cel-js'
import type { ConfigProblem } from '../errors.js'
import { celSummary, readsOf } from './compile.js'
import type { PolicyContext } from './context.js'
import type { PolicyVariable } from './context.js'
import { policyEnvironment } from './environment.js'

/**
 * A CEL expression that names something rather than decides: a route's `rate_limit.key`
 * (docs/state-store.md "Rate limits"). Compiled and type-checked at load against the policy
 * environment, like rules; it must be a string (or `dyn`, checked when evaluated).
 */
export interface CompiledKeyExpression {
  readonly source: string
  readonly reads: ReadonlySet<PolicyVariable>
  /** The value, or undefined when it fails to evaluate or is not a string (the caller falls back). */
  evaluate(ctx: PolicyContext): string | undefined
}

/** Compiles `source`, or records why it cannot be (as `key` at `file:line`) and returns undefined. */
export function compileKeyExpression(source: string, where: { file: string; line: number; key: string }, problems: ConfigProblem[]): CompiledKeyExpression | undefined {
  const fail = (message: string): undefined => {
    problems.push({ ...where, message: `\`${source.replace(/\s+/g, ' ')}\`: ${message}` })
    return undefined
  }
  let program: ParseResult
  try {
    program = policyEnvironment.parse(source)
  } catch (err) {
    return fail(`syntax error: ${celSummary(err)}`)
  }
  const checked = program.check()
  if (!checked.valid) return fail(`type error: ${celSummary(checked.error)}`)
  if (checked.type !== 'string' && checked.type !== 'dyn') return fail(`must be a string expression, but its type is ${checked.type ?? 'unknown'}`)
  return Object.freeze({
    source,
    reads: readsOf(program.ast),
    evaluate(ctx: PolicyContext): string | undefined {
      try {
        const value: unknown = program(ctx)
        return typeof value === 'string' ? value : undefined
      } catch {
        return undefined
      }
    },
  })
}

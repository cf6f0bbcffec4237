import type { ASTNode, ParseResult } from '@marcbachmann/cel-js'
import type { ConfigProblem } from '../errors.js'
import type { PolicyContext } from './context.js'
import { POLICY_VARIABLES, type PolicyVariable } from './context.js'
import { policyEnvironment } from './environment.js'

/**
 * Compiles policy rules once, at load (docs/architecture.md "Policies"): syntax and type errors become ConfigProblems
 * naming the file, the line and the expression, and each rule records which top-level
 * variables it reads so the per-request context holds only those.
 */

export type RuleKind = 'allow' | 'deny' | 'require'

/** Where a rule came from, as written. */
export interface RuleSource {
  readonly kind: RuleKind
  /** The CEL expression as written in the policy file. */
  readonly source: string
  readonly file: string
  /** 1-based line of the rule in `file`. */
  readonly line: number
}

export interface CompiledRule extends RuleSource {
  readonly reads: ReadonlySet<PolicyVariable>
  /** The expression's value; throws if it fails to evaluate or is not a bool. */
  evaluate(ctx: PolicyContext): boolean
}

export interface CompiledPolicy {
  readonly name: string
  readonly file: string
  readonly line: number
  /** In file order. */
  readonly rules: readonly CompiledRule[]
  /** The union of the rules' reads: what `buildPolicyContext` must provide. */
  readonly reads: ReadonlySet<PolicyVariable>
}

/**
 * Compiles one rule, or records why it cannot be and returns undefined. `key` is the rule's
 * path in its file (e.g. `rules.2.deny`) for the problem report.
 */
export function compileRule(src: RuleSource, problems: ConfigProblem[], key: string = src.kind): CompiledRule | undefined {
  const fail = (message: string): undefined => {
    const oneLine = src.source.replace(/\s+/g, ' ')
    problems.push({ file: src.file, line: src.line, key, message: `\`${oneLine}\`: ${message}` })
    return undefined
  }
  let program: ParseResult
  try {
    program = policyEnvironment.parse(src.source)
  } catch (err) {
    return fail(`syntax error: ${celSummary(err)}`)
  }
  // check() also annotates the AST with types, so evaluation skips the runtime type checker.
  const checked = program.check()
  if (!checked.valid) return fail(`type error: ${celSummary(checked.error)}`)
  // `dyn` is accepted (e.g. `aauth.jwt_claims.admin`); a non-bool value then denies at runtime.
  if (checked.type !== 'bool' && checked.type !== 'dyn') {
    return fail(`must be a bool expression, but its type is ${checked.type ?? 'unknown'}`)
  }
  return Object.freeze({
    kind: src.kind,
    source: src.source,
    file: src.file,
    line: src.line,
    reads: readsOf(program.ast),
    evaluate(ctx: PolicyContext): boolean {
      const value: unknown = program(ctx)
      if (typeof value !== 'boolean') throw new Error(`expression returned ${describe(value)}, not a bool`)
      return value
    },
  })
}

export interface PolicySource {
  readonly name: string
  readonly file: string
  /** 1-based line of the policy's `name`. */
  readonly line: number
  readonly rules: readonly (RuleSource & { readonly key?: string })[]
}

/** Compiles every rule (so all problems are reported), or returns undefined if any failed. */
export function compilePolicy(src: PolicySource, problems: ConfigProblem[]): CompiledPolicy | undefined {
  const compiled = src.rules.map((r, i) => compileRule(r, problems, r.key ?? `rules.${i}.${r.kind}`))
  if (!compiled.every((r): r is CompiledRule => r !== undefined)) return undefined
  const reads = new Set(compiled.flatMap((r) => [...r.reads]))
  return Object.freeze({ name: src.name, file: src.file, line: src.line, rules: Object.freeze(compiled), reads })
}

/**
 * Top-level variables an expression mentions. Every variable reference is an `id` node, so a
 * walk cannot miss one; a macro's loop variable that shadows a name (`.exists(now, ...)`) only
 * over-approximates, which costs a little context and never correctness.
 */
export function readsOf(ast: ASTNode): ReadonlySet<PolicyVariable> {
  const reads = new Set<PolicyVariable>()
  const walk = (n: unknown): void => {
    if (Array.isArray(n)) n.forEach(walk)
    else if (isAstNode(n)) {
      if (n.op === 'id') {
        const v = POLICY_VARIABLES.find((name) => name === n.args)
        if (v) reads.add(v)
      } else walk(n.args)
    }
  }
  walk(ast)
  return reads
}

function isAstNode(n: unknown): n is ASTNode {
  return typeof n === 'object' && n !== null && 'op' in n && 'args' in n
}

/** cel-js messages carry a multi-line source excerpt; the one-line summary plus column suffices. */
export function celSummary(err: unknown): string {
  if (!(err instanceof Error)) return String(err)
  const e = err as Error & { summary?: string; range?: { start: number } }
  const column = e.range ? ` (column ${e.range.start + 1})` : ''
  return `${e.summary ?? e.message.split('\n')[0]}${column}`
}

function describe(v: unknown): string {
  if (v === null) return 'null'
  if (typeof v === 'bigint') return 'an int'
  if (typeof v === 'number') return 'a double'
  if (typeof v === 'string') return 'a string'
  if (Array.isArray(v)) return 'a list'
  return typeof v === 'object' ? 'a map' : typeof v
}

import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { isSeq } from 'yaml'
import { z } from 'zod'
import { ConfigError, type ConfigProblem } from '../errors.js'
import { compilePolicy, type CompiledPolicy, type RuleKind } from './compile.js'
import { inLineOrder, keyLine, readYamlFile, ZOD_PARSE, zodProblems, type YamlDoc, type YamlFile, type YamlPath } from '../config/yaml.js'

/**
 * Policy files (README "Policies").
 *
 * A policy directory holds `*.yaml` / `*.yml` files, read in name order and not recursively;
 * `*.tests.yaml` / `*.tests.yml` beside them are `test-policies` cases and are skipped here.
 * Each file holds one or more YAML documents separated by `---`, and each document is either
 * one policy or a list of policies:
 *
 *     name: data-access                # letters, digits, "_", "." or "-"; unique in the directory
 *     description: Who may use /data   # optional
 *     rules:                           # at least one; each is exactly one of allow, deny, require
 *       - allow: 'aauth.agent == "https://agent.supply-chain.com"'
 *       - deny: 'aauth.agent_delegate.startsWith("revoked-")'
 *       - require: '"data.read" in aauth.scope || request.method == "GET"'
 *
 * Unknown keys, bad shapes, CEL syntax and type errors and duplicate names are all collected,
 * each with file and line, and thrown together as one ConfigError.
 */

const NAME = /^[A-Za-z0-9_.-]+$/
const RULE_KINDS = ['allow', 'deny', 'require'] as const satisfies readonly RuleKind[]

// Unquoted YAML such as `allow: true` parses as a bool; say what was meant.
const expression = z
  .string({ error: 'expected a CEL expression as a string (quote it)' })
  .trim()
  .min(1, 'empty expression')

const ruleSchema = z
  .strictObject({ allow: expression.optional(), deny: expression.optional(), require: expression.optional() })
  .refine((r) => RULE_KINDS.filter((k) => r[k] !== undefined).length === 1, {
    message: 'a rule is exactly one of allow, deny or require',
    // After an unknown key (say `alow`) this would only repeat the same mistake.
    when: (payload) => payload.issues.length === 0,
  })

const policySchema = z.strictObject({
  name: z.string().regex(NAME, 'expected letters, digits, "_", "." or "-"'),
  description: z.string().optional(),
  rules: z.array(ruleSchema).min(1, 'a policy needs at least one rule'),
})

/** Loads and compiles every policy in `dir`, by name. Throws ConfigError listing every problem. */
export function loadPolicyDir(dir: string): ReadonlyMap<string, CompiledPolicy> {
  const sources = policyFileNames(dir).map((name) => readSource(join(dir, name)))
  return compilePolicySources(sources)
}

export interface PolicySourceFile {
  file: string
  text: string
  /** Why the file could not be read; reported as a problem like any other. */
  error?: string
}

export function readSource(file: string): PolicySourceFile {
  try {
    return { file, text: readFileSync(file, 'utf8') }
  } catch (err) {
    return { file, text: '', error: `cannot read: ${(err as Error).message}` }
  }
}

/** The policy files of `dir`, sorted. Throws ConfigError when the directory cannot be read. */
export function policyFileNames(dir: string): string[] {
  return listDir(dir).filter((n) => /\.ya?ml$/.test(n) && !/\.tests\.ya?ml$/.test(n))
}

export function listDir(dir: string): string[] {
  try {
    return readdirSync(dir).sort()
  } catch (err) {
    throw new ConfigError([{ file: dir, line: 0, key: '', message: `cannot read policy directory: ${(err as Error).message}` }])
  }
}

/** Compiles already-read files (in order); the unit `loadPolicyDir` and tests share. */
export function compilePolicySources(sources: readonly PolicySourceFile[]): ReadonlyMap<string, CompiledPolicy> {
  const problems: ConfigProblem[] = []
  const byName = new Map<string, CompiledPolicy>()
  for (const { file, text, error } of sources) {
    if (error !== undefined) problems.push({ file, line: 0, key: '', message: error })
    for (const policy of parsePolicyFile(text, file, problems)) {
      const first = byName.get(policy.name)
      if (first) {
        problems.push({
          file,
          line: policy.line,
          key: 'name',
          message: `duplicate policy name "${policy.name}" (first defined at ${first.file}:${first.line})`,
        })
      } else byName.set(policy.name, policy)
    }
  }
  if (problems.length > 0) throw new ConfigError(problems)
  return byName
}

/** The policies one file defines; its problems are appended to `problems`. */
export function parsePolicyFile(text: string, file: string, problems: ConfigProblem[]): CompiledPolicy[] {
  const found: ConfigProblem[] = []
  const y = readYamlFile(text, file, found)
  const policies = y.docs.flatMap((doc) => {
    if (!isSeq(doc.root)) return policyAt(y, doc, [], doc.value, found)
    const items: unknown[] = Array.isArray(doc.value) ? doc.value : []
    return items.flatMap((item, i) => policyAt(y, doc, [i], item, found))
  })
  problems.push(...inLineOrder(found))
  return policies
}

function policyAt(y: YamlFile, doc: YamlDoc, base: YamlPath, value: unknown, problems: ConfigProblem[]): CompiledPolicy[] {
  const parsed = policySchema.safeParse(value, ZOD_PARSE)
  const sources = wellFormedRules(value).map(([rule, i]) => {
    const kind = RULE_KINDS.find((k) => rule[k] !== undefined) ?? 'require'
    const path = [...base, 'rules', i]
    const line = keyLine(y, doc.root, path, kind)
    return { kind, source: rule[kind] ?? '', file: y.file, line, key: [...path, kind].join('.') }
  })
  const name = parsed.success ? parsed.data.name : ''
  const line = keyLine(y, doc.root, base, 'name')
  const policy = compilePolicy({ name, file: y.file, line, rules: sources }, problems)
  if (parsed.success) return policy ? [policy] : []
  problems.push(...zodProblems(y, doc.root, base, parsed.error))
  return []
}

/** The rules that are well formed, so a malformed policy's expressions are still checked. */
function wellFormedRules(value: unknown): [z.infer<typeof ruleSchema>, number][] {
  const rules: unknown = typeof value === 'object' && value !== null && 'rules' in value ? value.rules : []
  if (!Array.isArray(rules)) return []
  return rules.flatMap((r: unknown, i) => {
    const parsed = ruleSchema.safeParse(r, ZOD_PARSE)
    return parsed.success ? [[parsed.data, i] as const] : []
  })
}

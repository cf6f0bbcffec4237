import { readFileSync } from 'node:fs'
import { isMap, isScalar, isSeq, LineCounter, parseDocument, type Node as YamlNode } from 'yaml'
import type { ZodError } from 'zod'
import { ConfigError, type ConfigProblem } from '../errors.js'
import { configSchema, type GatewayConfig } from './schema.js'

/** The raw config as read: validated values plus where they came from. */
export interface LoadedConfig {
  file: string
  config: GatewayConfig
  /** The 1-based line of the value at `path` (or its nearest ancestor), for later checks. */
  lineOf(path: readonly (string | number)[]): number
}

/**
 * Reads, substitutes and validates one config file. Every problem found is reported at once,
 * each with the file, the line and the dotted key (CONTRACT §3: unknown keys are errors).
 */
export function loadConfigFile(file: string, env: NodeJS.ProcessEnv = process.env): LoadedConfig {
  let text: string
  try {
    text = readFileSync(file, 'utf8')
  } catch (err) {
    throw new ConfigError([{ file, line: 0, key: '', message: `cannot read: ${(err as Error).message}` }])
  }
  return parseConfigText(text, file, env)
}

export function parseConfigText(text: string, file: string, env: NodeJS.ProcessEnv = process.env): LoadedConfig {
  const lines = new LineCounter()
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true })
  const lineOf = (offset: number | undefined): number => (offset === undefined ? 0 : lines.linePos(offset).line)

  const problems: ConfigProblem[] = doc.errors.map((e) => ({
    file,
    line: lineOf(e.pos[0]),
    key: '',
    message: e.message.split('\n')[0] ?? e.message,
  }))
  if (problems.length > 0) throw new ConfigError(problems)

  substituteEnv(doc.contents, env, (node, name) =>
    problems.push({ file, line: lineOf(node.range?.[0]), key: '', message: `environment variable ${name} is not set` }),
  )
  if (problems.length > 0) throw new ConfigError(problems)

  const result = configSchema.safeParse(doc.toJS() ?? {})
  if (!result.success) {
    throw new ConfigError(zodProblems(result.error, doc.contents, file, lineOf).sort((a, b) => a.line - b.line))
  }
  const root = doc.contents
  return { file, config: result.data, lineOf: (path) => lineOf(deepestNodeAt(root, path)?.range?.[0]) }
}

/**
 * `${NAME}` in any string scalar is replaced by the variable's value; an unset variable is an
 * error unless a default is given as `${NAME:-default}` (the shell's form).
 */
function substituteEnv(
  node: YamlNode | null | undefined,
  env: NodeJS.ProcessEnv,
  missing: (node: YamlNode, name: string) => void,
): void {
  if (!node) return
  if (isScalar(node)) {
    if (typeof node.value !== 'string' || !node.value.includes('${')) return
    node.value = node.value.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g, (_m, name: string, fallback?: string) => {
      const value = env[name] ?? fallback
      if (value === undefined) {
        missing(node, name)
        return ''
      }
      return value
    })
    return
  }
  if (isMap(node)) for (const pair of node.items) substituteEnv(pair.value as YamlNode | null, env, missing)
  else if (isSeq(node)) for (const item of node.items) substituteEnv(item as YamlNode, env, missing)
}

/** Maps each schema issue back to the YAML node it concerns, so the line is exact. */
function zodProblems(
  error: ZodError,
  root: YamlNode | null,
  file: string,
  lineOf: (offset: number | undefined) => number,
): ConfigProblem[] {
  return error.issues.flatMap((issue) => {
    const path = issue.path.map((p) => (typeof p === 'symbol' ? String(p) : p))
    if (issue.code === 'unrecognized_keys') {
      return issue.keys.map((k) => ({
        file,
        line: lineOf(keyNodeAt(root, path, k)?.range?.[0] ?? nodeAt(root, path)?.range?.[0]),
        key: [...path, k].join('.'),
        message: 'unknown key',
      }))
    }
    const node = deepestNodeAt(root, path)
    return [{ file, line: lineOf(node?.range?.[0]), key: path.join('.'), message: issue.message }]
  })
}

function nodeAt(root: YamlNode | null, path: readonly (string | number)[]): YamlNode | undefined {
  let node: unknown = root
  for (const step of path) {
    if (isMap(node)) node = node.get(step, true)
    else if (isSeq(node) && typeof step === 'number') node = node.get(step, true)
    else return undefined
  }
  return (node ?? undefined) as YamlNode | undefined
}

/** The node at `path`, or its nearest existing ancestor (a missing key points at its parent). */
function deepestNodeAt(root: YamlNode | null, path: readonly (string | number)[]): YamlNode | undefined {
  for (let n = path.length; n >= 0; n--) {
    const node = nodeAt(root, path.slice(0, n))
    if (node) return node
  }
  return undefined
}

function keyNodeAt(root: YamlNode | null, path: readonly (string | number)[], key: string): YamlNode | undefined {
  const parent = nodeAt(root, path)
  if (!isMap(parent)) return undefined
  const pair = parent.items.find((p) => isScalar(p.key) && p.key.value === key)
  return pair?.key as YamlNode | undefined
}

import { readFileSync } from 'node:fs'
import { ConfigError, type ConfigProblem } from '../errors.js'
import { configSchema, type GatewayConfig } from './schema.js'
import { inLineOrder, nodeAt, readYamlFile, zodProblems, ZOD_PARSE, type YamlPath } from './yaml.js'

/** The raw config as read: validated values plus where they came from. */
export interface LoadedConfig {
  file: string
  config: GatewayConfig
  /** The 1-based line of the value at `path` (or its nearest ancestor), for later checks. */
  lineOf(path: YamlPath): number
}

/**
 * A config file that does not validate. Carries the `policies` directory it names, as written,
 * so `check` can still report that directory's problems in the same run.
 */
export class InvalidConfigError extends ConfigError {
  constructor(
    problems: readonly ConfigProblem[],
    readonly policies: string | undefined,
  ) {
    super(problems)
  }
}

/**
 * Reads, substitutes and validates one config file. Every problem found is reported at once,
 * each with the file, the line and the dotted key (docs/configuration.md: unknown keys are errors).
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
  const problems: ConfigProblem[] = []
  const yaml = readYamlFile(text, file, problems)
  if (yaml.docs.length > 1) problems.push({ file, line: 0, key: '', message: 'expected one YAML document' })
  const root = yaml.docs[0]?.root
  const lineOf = (path: YamlPath): number => {
    for (let n = path.length; root && n >= 0; n--) {
      const line = yaml.lineAt(nodeAt(root, path.slice(0, n))?.range?.[0])
      if (line > 0) return line
    }
    return 0
  }
  const value = substituteEnv(yaml.docs[0]?.value ?? {}, [], env, (path, name) =>
    problems.push({ file, line: lineOf(path), key: path.join('.'), message: `environment variable ${name} is not set` }),
  )
  const policies = (value as { policies?: unknown } | null)?.policies
  const policiesDir = typeof policies === 'string' ? policies : undefined
  if (problems.length > 0) throw new InvalidConfigError(inLineOrder(problems), policiesDir)

  const result = configSchema.safeParse(value, ZOD_PARSE)
  if (!result.success) {
    const found = root ? inLineOrder(zodProblems(yaml, root, [], result.error)) : [{ file, line: 0, key: '', message: result.error.message }]
    throw new InvalidConfigError(found, policiesDir)
  }
  return { file, config: result.data, lineOf }
}

const ENV_REFERENCE = /\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g

/**
 * `${NAME}` in any string value is replaced by the variable's value; an unset variable is an
 * error unless a default is given as `${NAME:-default}` (the shell's form). Keys are left alone.
 */
function substituteEnv(
  value: unknown,
  path: (string | number)[],
  env: NodeJS.ProcessEnv,
  missing: (path: YamlPath, name: string) => void,
): unknown {
  if (typeof value === 'string') {
    if (!value.includes('${')) return value
    return value.replace(ENV_REFERENCE, (_m, name: string, fallback?: string) => {
      const found = env[name] ?? fallback
      if (found === undefined) missing(path, name)
      return found ?? ''
    })
  }
  if (Array.isArray(value)) return value.map((v, i) => substituteEnv(v, [...path, i], env, missing))
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {}
    for (const [k, v] of Object.entries(value)) out[k] = substituteEnv(v, [...path, k], env, missing)
    return out
  }
  return value
}

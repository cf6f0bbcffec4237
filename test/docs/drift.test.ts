import assert from 'node:assert/strict'
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { describe, test } from 'node:test'
import ts from 'typescript'
import type { z } from 'zod'
import { configSchema } from '../../src/config/schema.js'
import {
  LocalReplyError,
  PolicyDenied,
  RequirementError,
  SIGNATURE_ERROR_CODES,
  SignatureError,
  type Requirement,
} from '../../src/errors.js'
import { renderError, type RenderOptions } from '../../src/http/render.js'
import { ClusterMetrics, GatewayMetrics } from '../../src/metrics/metrics.js'

/**
 * Docs drift (after fastify's test that every error code is documented): every config key of
 * the schema, every metric the metrics classes register, every reason, Signature-Error code,
 * requirement, problem `error` code and status the error catalog renders, and every policy
 * decision reason must be named in its docs page, in backticks as a reader would search for
 * it. The names are read from the code itself (the zod schema, the prom-client registries, the
 * catalog's types and renderer), so a name added to the code without a line in the docs fails.
 */

const CONFIGURATION = 'docs/configuration.md'
const METRICS = 'docs/metrics.md'
const HEADERS_AND_ERRORS = 'docs/headers-and-errors.md'

/** The names of `names` that `page` does not mention as `name` (in backticks). */
function undocumented(page: string, names: Iterable<string>): string[] {
  const text = readFileSync(page, 'utf8')
  return [...new Set(names)].filter((name) => !text.includes('`' + name + '`')).sort()
}

// ---- config keys: the zod schema, walked -------------------------------------------------

interface Def {
  type: string
  shape?: Record<string, z.core.$ZodType>
  innerType?: z.core.$ZodType
  in?: z.core.$ZodType
  element?: z.core.$ZodType
}

const defOf = (schema: z.core.$ZodType): Def => schema._zod.def as unknown as Def

/**
 * Every key of the config file as a dotted path (`signatures.replay.max_entries`); a list's
 * items are `[]` (`routes[].match.host`). Wrappers (default, optional, pipe, ...) are looked
 * through, so a key is found however its default or refinement is written.
 */
function configKeys(schema: z.core.$ZodType, prefix = ''): string[] {
  const def = defOf(schema)
  if (def.type === 'object' && def.shape !== undefined) {
    return Object.entries(def.shape).flatMap(([key, child]) => {
      const path = prefix === '' ? key : `${prefix}.${key}`
      return [path, ...configKeys(child, path)]
    })
  }
  if (def.type === 'array' && def.element !== undefined) return configKeys(def.element, `${prefix}[]`)
  if (def.type === 'pipe' && def.in !== undefined) return configKeys(def.in, prefix)
  if (def.innerType !== undefined) return configKeys(def.innerType, prefix)
  return []
}

// ---- metric names: the registries the metrics classes create ------------------------------

async function metricNames(): Promise<string[]> {
  const names: string[] = []
  for (const registry of [new GatewayMetrics().registry, new ClusterMetrics().registry]) {
    for (const metric of await registry.getMetricsAsJSON()) names.push(metric.name)
  }
  // Node's process metrics (prom-client's defaults) are documented as a group, not one by one.
  return names.filter((name) => name.startsWith('aauth_gateway_'))
}

// ---- the error catalog: its closed sets of codes, read from the types -----------------------

/** Where the catalog's code sets are declared; one program serves every lookup. */
const CATALOG_FILES = ['src/errors.ts', 'src/proxy/record.ts', 'src/policy/evaluate.ts']
let program: ts.Program | undefined

/**
 * The string literals of an exported union type, as the type checker resolves it: the catalog's
 * reason sets are types (`ReasonCode`, `LocalReason`, ...), so a code added to the union shows
 * up here without a list to keep in step.
 */
function unionMembers(file: string, typeName: string): string[] {
  program ??= ts.createProgram(CATALOG_FILES, { strict: true, module: ts.ModuleKind.NodeNext, moduleResolution: ts.ModuleResolutionKind.NodeNext, noEmit: true, skipLibCheck: true, types: [] })
  const checker = program.getTypeChecker()
  const source = program.getSourceFile(file)
  assert.ok(source, `${file} is part of the program`)
  const alias = source.statements.find((s): s is ts.TypeAliasDeclaration => ts.isTypeAliasDeclaration(s) && s.name.text === typeName)
  assert.ok(alias, `${file} declares type ${typeName}`)
  const type = checker.getTypeAtLocation(alias.name)
  const members = type.isUnion() ? type.types : [type]
  return members.map((t) => {
    assert.ok(t.isStringLiteral(), `${typeName} is a union of string literals`)
    return t.value
  })
}

const RENDER: RenderOptions = { accept: { schemes: 'jwt', algorithms: 'Ed25519' }, policiesVisible: true }

describe('docs drift: every name the code defines is in the docs', () => {
  test('every config key of the schema is in docs/configuration.md', () => {
    const keys = configKeys(configSchema)
    assert.ok(keys.includes('signatures.replay.max_entries') && keys.includes('routes[].match.path_prefix'), 'the walk reaches nested keys')
    assert.deepEqual(undocumented(CONFIGURATION, keys), [])
  })

  test('every metric the gateway registers is in docs/metrics.md', async () => {
    const names = await metricNames()
    assert.ok(names.includes('aauth_gateway_requests_total') && names.includes('aauth_gateway_workers'), 'both registries are read')
    assert.deepEqual(undocumented(METRICS, names), [])
  })

  test('every reason of the decision log and requests_total is in docs/headers-and-errors.md and docs/metrics.md', () => {
    // `RecordReason` is `ReasonCode | 'ok' | ...`; the checker flattens it into its literals.
    const reasons = unionMembers('src/proxy/record.ts', 'RecordReason')
    assert.ok(reasons.includes('replay') && reasons.includes('store_unavailable') && reasons.includes('preflight'), 'the union is resolved to its literals')
    assert.deepEqual(undocumented(HEADERS_AND_ERRORS, reasons), [])
    assert.deepEqual(undocumented(METRICS, reasons), [])
  })

  test('every Signature-Error code and AAuth-Requirement value is in docs/headers-and-errors.md', () => {
    const requirements = unionMembers('src/errors.ts', 'Requirement')
    assert.deepEqual(undocumented(HEADERS_AND_ERRORS, [...SIGNATURE_ERROR_CODES, ...requirements]), [])
  })

  test('every policy decision reason is in docs/headers-and-errors.md', () => {
    const reasons = unionMembers('src/policy/evaluate.ts', 'DecisionReason')
    assert.ok(reasons.includes('deny_matched'), 'the union is resolved to its literals')
    assert.deepEqual(undocumented(HEADERS_AND_ERRORS, reasons), [])
  })

  test('every problem+json error code and status the renderer produces is in docs/headers-and-errors.md', () => {
    const errors: unknown[] = [
      ...SIGNATURE_ERROR_CODES.map((code) => new SignatureError(code, 'x')),
      ...unionMembers('src/errors.ts', 'Requirement').map((r) => new RequirementError(r as Requirement, 'x')),
      ...unionMembers('src/errors.ts', 'LocalReason').map((r) => new LocalReplyError(r as never, 'x')),
      new PolicyDenied('p', 'r', 'x'),
      new Error('a bug'),
    ]
    const codes = new Set<string>()
    const statuses = new Set<string>()
    for (const err of errors) {
      const reply = renderError(err, RENDER)
      codes.add('error' in reply.body ? reply.body.error : '')
      statuses.add(String(reply.status))
    }
    assert.ok(codes.has('not_found') && statuses.has('431'), 'every class of the catalog is rendered')
    assert.deepEqual(undocumented(HEADERS_AND_ERRORS, codes), [])
    assert.deepEqual(undocumented(HEADERS_AND_ERRORS, statuses), [])
  })

  test('the check itself reports a name that is not documented', () => {
    assert.deepEqual(undocumented(METRICS, ['aauth_gateway_requests_total', 'aauth_gateway_not_a_metric']), ['aauth_gateway_not_a_metric'])
  })
})

// ---- file paths: what the docs tell a maintainer to open must exist -----------------------

describe('every repository path the docs name exists', () => {
  test('README.md and docs/*.md name no file or folder that is gone', () => {
    const pages = ['README.md', ...readdirSync('docs').filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`)]
    const missing: string[] = []
    for (const page of pages) {
      const text = readFileSync(page, 'utf8')
      for (const [, path] of text.matchAll(/`((?:src|test|bench|docs|deploy|config|policies)\/[A-Za-z0-9_./-]+)`/g)) {
        if (path !== undefined && !existsSync(path.replace(/\/$/, ''))) missing.push(`${page}: ${path}`)
      }
    }
    assert.deepEqual(missing, [], `paths named in the docs that do not exist:\n${missing.join('\n')}`)
  })
})

describe('every README section the code and docs cite exists', () => {
  test('README "Title" citations in src, test, bench, docs and the Dockerfile name a README heading', () => {
    const headings = new Set([...readFileSync('README.md', 'utf8').matchAll(/^#{2,3} (.+)$/gm)].map((m) => m[1]?.trim()))
    // This file spells the pattern itself; it is the one file not read.
    const files = ['Dockerfile', ...['src', 'test', 'bench', 'docs'].flatMap((dir) => walk(dir))].filter((f) => f !== 'test/docs/drift.test.ts')
    const missing: string[] = []
    for (const file of files) {
      for (const [, title] of readFileSync(file, 'utf8').matchAll(/README "([^"]+)"/g)) {
        if (title !== undefined && !headings.has(title)) missing.push(`${file}: README "${title}"`)
      }
    }
    assert.deepEqual(missing, [], `README sections cited that do not exist:\n${missing.join('\n')}`)
  })
})

/** Every .ts and .md file below `dir`. */
function walk(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = `${dir}/${entry.name}`
    if (entry.isDirectory()) return walk(path)
    return /\.(ts|md)$/.test(entry.name) ? [path] : []
  })
}

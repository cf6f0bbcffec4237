import { join } from 'node:path'
import { z } from 'zod'
import { ConfigError, type ConfigProblem } from '../errors.js'
import type { Identity } from '../identity.js'
import type { CompiledPolicy } from './compile.js'
import { buildPolicyContext, type PolicyRequest } from './context.js'
import { evaluatePolicy, type DecisionReason, type PolicyDecision } from './evaluate.js'
import { listDir, readSource } from './load.js'
import { inLineOrder, keyLine, readYamlFile, ZOD_PARSE, zodProblems, type YamlDoc, type YamlFile } from '../config/yaml.js'

/**
 * Policy test cases, run by `aauth-gateway test-policies [DIR]`.
 *
 * They live beside the policies in `*.tests.yaml` / `*.tests.yml` files. Each YAML document
 * (`---`-separated) tests one policy:
 *
 *     policy: data-access
 *     cases:
 *       - name: a revoked delegate is denied
 *         identity:                 # any of the aauth.* fields; omitted ones are empty
 *           agent: https://agent.supply-chain.com
 *           agent_delegate: revoked-7
 *           level: identified       # none | pseudonymous | identified | authorized
 *           scheme: jwt             # "" | hwk | jkt-jwt | jwt | jwks_uri | jwks | self-jwt | x509
 *           scope: [data.read]
 *           delegation: [{ sub: delegate-1 }]
 *           jwt_claims: { exp: 1900000000 }
 *         request: { method: GET, path: /data/1, host: api.example.com, headers: {}, query: {} }
 *         now: "2026-01-01T00:00:00Z"   # optional; default: the real clock
 *         expect: deny              # allow | deny
 *         reason: deny_matched      # optional: allowed | deny_matched | require_failed | no_allow_matched | error
 *
 * `request` defaults to `GET /` with an empty host, query and headers.
 */

const DECISION_REASONS = ['allowed', 'deny_matched', 'require_failed', 'no_allow_matched', 'error'] as const

const identitySchema = z.strictObject({
  level: z.enum(['none', 'pseudonymous', 'identified', 'authorized']).default('none'),
  scheme: z.enum(['', 'hwk', 'jkt-jwt', 'jwt', 'jwks_uri', 'jwks', 'self-jwt', 'x509']).default(''),
  token_type: z.string().default(''),
  agent: z.string().default(''),
  agent_delegate: z.string().default(''),
  user: z.string().default(''),
  issuer: z.string().default(''),
  scope: z.array(z.string()).default([]),
  delegation: z.array(z.record(z.string(), z.unknown())).default([]),
  thumbprint: z.string().default(''),
  jwt_claims: z.record(z.string(), z.unknown()).default({}),
})

const requestSchema = z.strictObject({
  method: z.string().default('GET'),
  path: z.string().default('/'),
  host: z.string().default(''),
  query: z.record(z.string(), z.string()).default({}),
  headers: z.record(z.string(), z.string()).default({}),
})

const caseSchema = z.strictObject({
  name: z.string().min(1),
  identity: identitySchema.default(identitySchema.parse({})),
  request: requestSchema.default(requestSchema.parse({})),
  now: z.string().refine((s) => !Number.isNaN(Date.parse(s)), 'expected an RFC 3339 timestamp').optional(),
  expect: z.enum(['allow', 'deny']),
  reason: z.enum(DECISION_REASONS).optional(),
})

const suiteSchema = z.strictObject({
  policy: z.string().min(1),
  cases: z.array(caseSchema).min(1, 'a test file needs at least one case'),
})

export interface PolicyTestCase {
  readonly policy: CompiledPolicy
  readonly name: string
  readonly file: string
  readonly line: number
  readonly identity: Identity
  readonly request: PolicyRequest
  readonly now: Date | undefined
  readonly expect: 'allow' | 'deny'
  readonly reason: DecisionReason | undefined
}

export interface CaseOutcome {
  readonly passed: boolean
  readonly decision: PolicyDecision
}

/** The test files of `dir`, sorted. */
export function policyTestFileNames(dir: string): string[] {
  return listDir(dir).filter((n) => /\.tests\.ya?ml$/.test(n))
}

/** Every case of every test file in `dir`. Throws ConfigError listing every problem. */
export function loadPolicyTests(dir: string, policies: ReadonlyMap<string, CompiledPolicy>): PolicyTestCase[] {
  const problems: ConfigProblem[] = []
  const cases = policyTestFileNames(dir).flatMap((name) => {
    const { file, text, error } = readSource(join(dir, name))
    if (error !== undefined) problems.push({ file, line: 0, key: '', message: error })
    return parseTestFile(text, file, policies, problems)
  })
  if (problems.length > 0) throw new ConfigError(problems)
  return cases
}

export function parseTestFile(
  text: string,
  file: string,
  policies: ReadonlyMap<string, CompiledPolicy>,
  problems: ConfigProblem[],
): PolicyTestCase[] {
  const found: ConfigProblem[] = []
  const y = readYamlFile(text, file, found)
  const cases = y.docs.flatMap((doc) => suiteAt(y, doc, policies, found))
  problems.push(...inLineOrder(found))
  return cases
}

function suiteAt(
  y: YamlFile,
  doc: YamlDoc,
  policies: ReadonlyMap<string, CompiledPolicy>,
  problems: ConfigProblem[],
): PolicyTestCase[] {
  const parsed = suiteSchema.safeParse(doc.value, ZOD_PARSE)
  if (!parsed.success) {
    problems.push(...zodProblems(y, doc.root, [], parsed.error))
    return []
  }
  const policy = policies.get(parsed.data.policy)
  if (!policy) {
    const message = `no policy named "${parsed.data.policy}"`
    problems.push({ file: y.file, line: keyLine(y, doc.root, [], 'policy'), key: 'policy', message })
    return []
  }
  return parsed.data.cases.map((c, i): PolicyTestCase => ({
    policy,
    name: c.name,
    file: y.file,
    line: keyLine(y, doc.root, ['cases', i], 'name'),
    identity: toIdentity(c.identity),
    request: c.request,
    now: c.now === undefined ? undefined : new Date(c.now),
    expect: c.expect,
    reason: c.reason,
  }))
}

export function runPolicyTest(tc: PolicyTestCase, clock: () => Date = () => new Date()): CaseOutcome {
  const ctx = buildPolicyContext(tc.identity, tc.request, tc.policy.reads, tc.now ?? clock())
  const decision = evaluatePolicy(tc.policy, ctx)
  const passed = decision.result === tc.expect && (tc.reason === undefined || decision.reason === tc.reason)
  return { passed, decision }
}

function toIdentity(i: z.infer<typeof identitySchema>): Identity {
  return {
    level: i.level,
    scheme: i.scheme,
    tokenType: i.token_type,
    agent: i.agent,
    agentDelegate: i.agent_delegate,
    user: i.user,
    issuer: i.issuer,
    scope: i.scope,
    delegation: i.delegation,
    thumbprint: i.thumbprint,
    claims: i.jwt_claims,
  }
}

import { existsSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { ConfigError } from '../../src/errors.js'
import { ANONYMOUS, type Identity } from '../../src/identity.js'
import type { CompiledPolicy } from '../../src/policy/compile.js'
import { buildPolicyContext, type PolicyRequest } from '../../src/policy/context.js'
import { evaluatePolicy, type PolicyDecision } from '../../src/policy/evaluate.js'
import { compilePolicySources } from '../../src/policy/load.js'

/** Compiles one policy file's text and returns its only (or named) policy. */
export function policyFrom(text: string, name?: string): CompiledPolicy {
  const policies = compilePolicySources([{ file: 'test.yaml', text }])
  const policy = name === undefined ? [...policies.values()][0] : policies.get(name)
  if (!policy) throw new Error('no such policy in the test text')
  return policy
}

/** The ConfigError that compiling `files` throws. */
export function problemsOf(files: Record<string, string>): ConfigError {
  try {
    compilePolicySources(Object.entries(files).map(([file, text]) => ({ file, text })))
  } catch (err) {
    if (err instanceof ConfigError) return err
    throw err
  }
  throw new Error('expected a ConfigError')
}

export const AGENT = 'https://agent.supply-chain.com'

export function identity(over: Partial<Identity> = {}): Identity {
  return { ...ANONYMOUS, level: 'identified', scheme: 'jwt', agent: AGENT, agentDelegate: 'delegate-1', ...over }
}

export function request(over: Partial<PolicyRequest> = {}): PolicyRequest {
  return { method: 'GET', path: '/data', host: 'api.example.com', query: {}, headers: {}, ...over }
}

export function decide(
  policy: CompiledPolicy,
  id: Identity = identity(),
  req: PolicyRequest = request(),
  now: Date = new Date('2026-06-01T00:00:00Z'),
): PolicyDecision {
  return evaluatePolicy(policy, buildPolicyContext(id, req, policy.reads, now))
}

/** The repository root, from the source tree or from `dist/`. */
export function repoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url))
  while (!existsSync(join(dir, 'package.json')) || !existsSync(join(dir, 'policies'))) {
    const up = dirname(dir)
    if (up === dir) throw new Error('repository root not found')
    dir = up
  }
  return dir
}

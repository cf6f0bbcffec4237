import { ConfigError, formatProblem } from '../errors.js'
import { loadPolicyTests, runPolicyTest, type PolicyTestCase } from '../policy/cases.js'
import type { PolicyDecision } from '../policy/evaluate.js'
import { loadPolicyDir } from '../policy/load.js'

/**
 * `aauth-gateway test-policies [DIR]`: compiles the policies in DIR and runs the cases of its
 * `*.tests.yaml` files (format: src/policy/cases.ts). One PASS/FAIL line per case, then a
 * count. Exit 0 when every case passes; 1 on a failing case or a load error (printed as
 * `file:line: message`).
 */
export async function testPolicies(dir: string, out: NodeJS.WritableStream): Promise<number> {
  let cases: PolicyTestCase[]
  let untested: string[]
  try {
    const policies = loadPolicyDir(dir)
    cases = loadPolicyTests(dir, policies)
    const tested = new Set(cases.map((c) => c.policy.name))
    untested = [...policies.keys()].filter((name) => !tested.has(name))
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err
    for (const p of err.problems) out.write(`${formatProblem(p)}\n`)
    out.write(`load failed with ${err.problems.length} problem(s); no case was run\n`)
    return 1
  }

  let failed = 0
  for (const tc of cases) {
    const { passed, decision } = runPolicyTest(tc)
    if (!passed) failed++
    const title = `${tc.policy.name}: ${tc.name}`
    out.write(passed ? `PASS ${title}\n` : `FAIL ${title} (${tc.file}:${tc.line}): ${why(tc, decision)}\n`)
  }
  for (const name of untested) out.write(`NOTE policy "${name}" has no test cases\n`)
  out.write(`${cases.length - failed} passed, ${failed} failed\n`)
  return failed > 0 ? 1 : 0
}

function why(tc: PolicyTestCase, d: PolicyDecision): string {
  const expected = tc.reason ? `${tc.expect} (${tc.reason})` : tc.expect
  const rule = d.rule ? ` by ${d.rule.kind} \`${d.rule.source}\` at ${d.rule.file}:${d.rule.line}` : ` (${d.detail})`
  return `expected ${expected}, got ${d.result} (${d.reason})${rule}${d.error ? `: ${d.error}` : ''}`
}

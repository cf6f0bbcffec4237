import assert from 'node:assert/strict'
import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { PassThrough } from 'node:stream'
import { after, describe, test } from 'node:test'
import { testPolicies } from '../../src/cli/test-policies.js'
import { repoRoot } from '../helpers/policy.js'

async function run(dir: string): Promise<{ code: number; lines: string[] }> {
  const out = new PassThrough()
  let text = ''
  out.on('data', (chunk: Buffer) => (text += chunk.toString()))
  const code = await testPolicies(dir, out)
  return { code, lines: text.trimEnd().split('\n') }
}

describe('aauth-gateway test-policies', () => {
  const tmp = mkdtempSync(join(tmpdir(), 'aauth-test-policies-'))
  after(() => rmSync(tmp, { recursive: true, force: true }))

  test('every shipped policy passes its cases, and every shipped policy has cases', async () => {
    const { code, lines } = await run(join(repoRoot(), 'policies'))
    assert.equal(code, 0, lines.join('\n'))
    assert.ok(lines.slice(0, -1).every((l) => l.startsWith('PASS ')), lines.join('\n'))
    assert.match(lines.at(-1) ?? '', /^\d+ passed, 0 failed$/)
    for (const name of ['data-access', 'trusted-agents', 'revoked-delegates', 'read-write-by-scope', 'delegation-depth']) {
      assert.ok(lines.some((l) => l.startsWith(`PASS ${name}: `)), `no case for ${name}`)
    }
  })

  test('a failing case prints FAIL with the reason and exits 1', async () => {
    const dir = join(tmp, 'failing')
    cpSync(join(repoRoot(), 'policies'), dir, { recursive: true })
    writeFileSync(join(dir, 'extra.tests.yaml'), [
      'policy: data-access',
      'cases:',
      '  - name: a revoked delegate slips through',
      '    identity: { agent: https://agent.supply-chain.com, agent_delegate: revoked-1 }',
      '    expect: allow',
      '',
    ].join('\n'))
    const { code, lines } = await run(dir)
    assert.equal(code, 1)
    const fail = lines.find((l) => l.startsWith('FAIL '))
    assert.match(fail ?? '', /^FAIL data-access: a revoked delegate slips through \(.*extra\.tests\.yaml:3\): expected allow, got deny \(deny_matched\) by deny `aauth\.agent_delegate\.startsWith\("revoked-"\)` at .*data-access\.yaml:8$/)
    assert.match(lines.at(-1) ?? '', /^\d+ passed, 1 failed$/)
  })

  test('a case expecting a reason fails when the decision had another reason', async () => {
    const dir = join(tmp, 'reason')
    cpSync(join(repoRoot(), 'policies', 'data-access.yaml'), join(dir, 'p.yaml'))
    writeFileSync(join(dir, 'p.tests.yaml'), 'policy: data-access\ncases:\n  - name: x\n    expect: deny\n    reason: deny_matched\n')
    const { code, lines } = await run(dir)
    assert.equal(code, 1)
    assert.match(lines[0] ?? '', /expected deny \(deny_matched\), got deny \(no_allow_matched\)/)
  })

  test('load errors are printed as file:line and exit 1 without running cases', async () => {
    const dir = join(tmp, 'broken')
    cpSync(join(repoRoot(), 'policies', 'data-access.yaml'), join(dir, 'p.yaml'))
    writeFileSync(join(dir, 'q.yaml'), "name: q\nrules:\n  - allow: 'aauth.agent +'\n")
    const { code, lines } = await run(dir)
    assert.equal(code, 1)
    assert.match(lines[0] ?? '', /q\.yaml:3: rules\.0\.allow: `aauth\.agent \+`: syntax error/)
    assert.ok(!lines.some((l) => /^(PASS|FAIL) /.test(l)))
  })

  test('a test file naming an unknown policy is a load error with its line', async () => {
    const dir = join(tmp, 'unknown')
    cpSync(join(repoRoot(), 'policies', 'data-access.yaml'), join(dir, 'p.yaml'))
    writeFileSync(join(dir, 'p.tests.yaml'), '# tests\npolicy: nope\ncases:\n  - { name: x, expect: deny }\n')
    const { code, lines } = await run(dir)
    assert.equal(code, 1)
    assert.match(lines[0] ?? '', /p\.tests\.yaml:2: policy: no policy named "nope"/)
  })
})

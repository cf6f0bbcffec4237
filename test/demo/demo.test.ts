import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { existsSync } from 'node:fs'
import { resolve } from 'node:path'
import { describe, test } from 'node:test'
import { runDemo } from '../../src/demo/run.js'

// Tests run from the repository root (npm test), whether compiled or through tsx.
const BIN = resolve('bin/aauth-gateway.js')

describe('aauth-gateway demo', () => {
  test('runs the agent-delegation flow in-process: every step passes and the key exchanges are printed', async () => {
    let out = ''
    const result = await runDemo((text) => void (out += text))
    assert.equal(result.passed, true, out)
    assert.deepEqual(
      result.results.map((r) => r.passed),
      result.results.map(() => true),
    )
    assert.equal(result.results.length, 9)
    for (const line of [
      'TEST 1: Delegate Requests Agent Token',
      'header: {"alg":"Ed25519","typ":"aa-agent+jwt","kid":"agent-key-1"}',
      'x-aauth-level: pseudonymous',
      'AAuth-Requirement: requirement=agent-token',
      'x-aauth-agent-delegate: delegate-1',
      'x-aauth-agent-delegate: delegate-2',
      'Signature-Error: error=invalid_signature',
      'Signature-Error: error=expired_jwt',
      '<<< 403 Forbidden',
      'AAuth-Requirement: requirement=person-token',
      'AAuth-Requirement: requirement=auth-token;resource-token="eyJ',
      'header: {"alg":"Ed25519","typ":"aa-resource+jwt","kid":"resource-key-1"}',
      'x-aauth-scope: data.write\n',
      'x-aauth-scope: data.write data.admin\n',
      'Total: 9 | Passed: 9 | Failed: 0',
    ]) {
      assert.ok(out.includes(line), `the transcript shows ${JSON.stringify(line)}`)
    }
    assert.match(out, /x-aauth-agent: http:\/\/127\.0\.0\.1:\d+\n/)
    assert.match(out, /gateway log: route=data status=200 decision=allow reason=ok aauth_level=identified scheme=jwt agent=\S+ delegate=delegate-1/)
    assert.doesNotMatch(out, /✗/)
    const dir = /config in (\S+)\)/.exec(out)?.[1]
    assert.ok(dir !== undefined && !existsSync(dir), 'the temp dir is removed')
  })

  test('`aauth-gateway demo` exits 0 on its own (no server left open)', async () => {
    // A server left open keeps the process alive until execFile kills it (code null). The bound
    // is only a hang guard, generous for a loaded machine: exiting on its own is what is checked.
    const { code, stdout } = await new Promise<{ code: number | null; stdout: string }>((resolve) => {
      execFile(process.execPath, [BIN, 'demo'], { timeout: 120_000 }, (err, stdout) => {
        resolve({ code: err === null ? 0 : typeof err.code === 'number' ? err.code : null, stdout })
      })
    })
    assert.equal(code, 0, stdout)
    assert.match(stdout, /Total: 9 \| Passed: 9 \| Failed: 0/)
  })
})

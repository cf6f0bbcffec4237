import assert from 'node:assert/strict'
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { after, describe, test } from 'node:test'
import { cli as run, type Run } from '../helpers/cli.js'

const COMMANDS = ['serve', 'check', 'test-policies', 'keygen', 'demo', 'agent-server', 'person-server', 'request']

const cli = (...args: string[]): Promise<Run> => run(args)

describe('the aauth-gateway command line', () => {
  const tmp = mkdtempSync(join(tmpdir(), 'aauth-cli-'))
  after(() => rmSync(tmp, { recursive: true, force: true }))

  test('--version prints the package version', async () => {
    const pkg = JSON.parse(readFileSync('package.json', 'utf8')) as { version: string }
    const run = await cli('--version')
    assert.equal(run.code, 0)
    assert.equal(run.stdout, `aauth-gateway ${pkg.version}\n`)
  })

  test('help lists every command; no command at all is a usage error', async () => {
    const help = await cli('help')
    assert.equal(help.code, 0)
    for (const name of COMMANDS) assert.match(help.stdout, new RegExp(`^  ${name} `, 'm'))
    const none = await cli()
    assert.equal(none.code, 2)
    assert.match(none.stderr, /^usage: aauth-gateway <command>/)
  })

  test('every command has --help: exit 0, its usage, and nothing started', async () => {
    for (const name of COMMANDS) {
      const run = await cli(name, '--help')
      assert.equal(run.code, 0, `${name} --help: ${run.stderr}`)
      assert.match(run.stdout, new RegExp(`^usage: aauth-gateway ${name}`), name)
      assert.deepEqual(await cli('help', name), run, `help ${name}`)
    }
  })

  test('an unknown command, an unknown flag or an extra argument exits 2 and names it', async () => {
    const unknown = await cli('srve')
    assert.equal(unknown.code, 2)
    assert.match(unknown.stderr, /unknown command 'srve'/)
    const typo = await cli('check', '--confg', 'config/gateway.yaml')
    assert.equal(typo.code, 2)
    assert.match(typo.stderr, /^aauth-gateway check: Unknown option '--confg'\n/)
    assert.match(typo.stderr, /usage: aauth-gateway check/)
    const missing = await cli('check', '--config')
    assert.equal(missing.code, 2)
    assert.match(missing.stderr, /--config/)
    const extra = await cli('test-policies', 'a', 'b')
    assert.equal(extra.code, 2)
    assert.match(extra.stderr, /unexpected argument 'b'/)
    const alg = await cli('keygen', '--alg', 'RS256')
    assert.equal(alg.code, 2)
    assert.match(alg.stderr, /--alg must be Ed25519 or ES256/)
  })

  test('keygen writes a 0600 private JWK, refuses to overwrite it without --force, and --public prints the public half', async () => {
    const file = join(tmp, 'key.jwk.json')
    const first = await cli('keygen', '--out', file)
    assert.equal(first.code, 0, first.stderr)
    assert.equal(statSync(file).mode & 0o777, 0o600)
    const written = readFileSync(file, 'utf8')
    const key = JSON.parse(written) as Record<string, string>
    assert.equal(key.kty, 'OKP')
    assert.equal(typeof key.d, 'string')

    const again = await cli('keygen', '--out', file)
    assert.equal(again.code, 1)
    assert.match(again.stderr, /exists; not overwritten \(use --force/)
    assert.equal(readFileSync(file, 'utf8'), written, 'the existing key is untouched')

    const kept = await cli('keygen', '--out', file, '--if-missing')
    assert.equal(kept.code, 0, kept.stderr)
    assert.match(kept.stderr, /exists; kept/)
    assert.equal(readFileSync(file, 'utf8'), written, '--if-missing leaves the existing key alone')
    const nested = join(tmp, 'fresh', '.aauth', 'resource.jwk.json')
    const made = await cli('keygen', '--out', nested, '--if-missing')
    assert.equal(made.code, 0, made.stderr)
    assert.equal(statSync(nested).mode & 0o777, 0o600)
    assert.equal(statSync(dirname(nested)).mode & 0o777, 0o700, 'the missing directory is created private')
    assert.equal((await cli('keygen', '--out', file, '--if-missing', '--force')).code, 2)
    assert.match((await cli('keygen', '--if-missing')).stderr, /--if-missing needs --out FILE/)

    const forced = await cli('keygen', '--out', file, '--force', '--public', '--alg', 'ES256')
    assert.equal(forced.code, 0, forced.stderr)
    const replaced = JSON.parse(readFileSync(file, 'utf8')) as Record<string, string>
    assert.equal(replaced.kty, 'EC')
    const pub = JSON.parse(forced.stdout) as Record<string, string>
    assert.deepEqual(Object.keys(pub).sort(), ['alg', 'crv', 'kid', 'kty', 'x', 'y'])
    assert.equal(pub.x, replaced.x)
    assert.equal(pub.kid, replaced.kid)
  })

  test('check names the file and exits 1 on an invalid config', async () => {
    const bad = join(tmp, 'bad.yaml')
    writeFileSync(bad, 'resource:\n  authority: 42\n')
    const run = await cli('check', '--config', bad)
    assert.equal(run.code, 1)
    assert.match(run.stderr, new RegExp(`${bad.replace(/[.]/g, '\\.')}:\\d+`))
    assert.ok(existsSync(bad))
  })
})

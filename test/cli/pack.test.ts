import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, test } from 'node:test'
import { promisify } from 'node:util'

const run = promisify(execFile)
const NPM = process.platform === 'win32' ? 'npm.cmd' : 'npm'

// README "Quick start": `npm pack` builds a package whose bin runs after `npm install -g`. The
// test packs the tree `npm test` has just built (`--ignore-scripts`: prepack's build would
// rewrite dist/ under the tests running beside this one), installs the tarball into a prefix of
// its own, and runs the installed bin as a user would.
const dir = mkdtempSync(join(tmpdir(), 'aauth-pack-'))
after(() => rmSync(dir, { recursive: true, force: true }))

test('the packed package installs globally and its bin runs: --version, help, keygen', { timeout: 180_000 }, async () => {
  const { version } = JSON.parse(readFileSync('package.json', 'utf8')) as { version: string }
  const packed = await run(NPM, ['pack', '--ignore-scripts', '--json', '--pack-destination', dir])
  const [{ filename, files }] = JSON.parse(packed.stdout) as [{ filename: string; files: { path: string }[] }]
  const paths = files.map((f) => f.path)
  assert.ok(paths.includes('bin/aauth-gateway.js'), 'the bin ships')
  assert.ok(paths.includes('dist/src/cli/main.js'), 'the compiled CLI ships')
  assert.ok(paths.includes('config/gateway.yaml'), 'the default config ships')
  assert.ok(!paths.some((p) => p.startsWith('dist/test/') || p.startsWith('src/') || p.startsWith('test/')), 'no sources or tests ship')

  const prefix = join(dir, 'global')
  await run(NPM, ['install', '-g', '--prefix', prefix, '--prefer-offline', '--no-audit', '--no-fund', join(dir, filename)], { timeout: 150_000 })
  const bin = join(prefix, 'bin', 'aauth-gateway')
  assert.equal((await run(bin, ['--version'], { cwd: dir })).stdout, `aauth-gateway ${version}\n`)
  assert.match((await run(bin, ['help'], { cwd: dir })).stdout, /^ {2}serve +run the gateway$/m)
  const jwk = JSON.parse((await run(bin, ['keygen', '--public'], { cwd: dir })).stdout) as Record<string, string>
  assert.equal(jwk.kty, 'OKP')
  assert.equal(jwk.d, undefined, 'the public JWK only')
})

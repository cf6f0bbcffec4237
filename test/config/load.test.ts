import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { cpSync, mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { promisify } from 'node:util'
import { buildSnapshot } from '../../src/config/compile.js'
import { parseConfigText } from '../../src/config/load.js'
import { ConfigError } from '../../src/errors.js'

function problemsOf(fn: () => unknown): string[] {
  try {
    fn()
  } catch (err) {
    if (err instanceof ConfigError) return err.problems.map((p) => `${p.line} ${p.key}: ${p.message}`)
    throw err
  }
  assert.fail('expected a ConfigError')
}

const ROUTE = `routes:
  - name: data
    upstream: "http://127.0.0.1:3000"
`

test('reports an unknown key with its file line and dotted path', () => {
  const text = `listen: "127.0.0.1:8080"\nsignatures:\n  window: 60\n  windw: 30\n${ROUTE}`
  assert.deepEqual(problemsOf(() => parseConfigText(text, 'g.yaml')), ['4 signatures.windw: unknown key'])
})

test('reports a wrong type and a bad value on their own lines, all at once', () => {
  const text = `${ROUTE}    access: superuser\n    timeout: "ten"\nsignatures:\n  window: -1\n`
  const problems = problemsOf(() => parseConfigText(text, 'g.yaml'))
  assert.equal(problems.length, 3)
  assert.match(problems[0] ?? '', /^4 routes\.0\.access: /)
  assert.match(problems[1] ?? '', /^5 routes\.0\.timeout: /)
  assert.match(problems[2] ?? '', /^7 signatures\.window: /)
})

test('names the file and line in the message', () => {
  try {
    parseConfigText('listen: "8080"\n', 'config/x.yaml')
    assert.fail('expected a ConfigError')
  } catch (err) {
    assert.ok(err instanceof ConfigError)
    assert.match(err.message, /^config\/x\.yaml:1: listen: expected "host:port"/)
  }
})

test('reports YAML syntax errors with a line', () => {
  const problems = problemsOf(() => parseConfigText('routes:\n  - name: [unclosed\n', 'g.yaml'))
  assert.ok(problems.length >= 1)
  assert.match(problems[0] ?? '', /^[23] /)
})

test('substitutes ${ENV} in strings, with ${ENV:-default} and an error for unset variables', () => {
  const text = `listen: "\${HOST}:\${PORT:-8081}"\n${ROUTE}`
  assert.equal(parseConfigText(text, 'g.yaml', { HOST: '127.0.0.1' }).config.listen, '127.0.0.1:8081')
  assert.deepEqual(problemsOf(() => parseConfigText(text, 'g.yaml', {})), ['1 listen: environment variable HOST is not set'])
})

test('applies the documented defaults', () => {
  const { config } = parseConfigText(ROUTE, 'g.yaml')
  assert.equal(config.signatures.window, 60)
  assert.deepEqual(config.signatures.algorithms, ['Ed25519', 'ES256'])
  assert.equal(config.routes[0]?.access, 'identified')
  assert.equal(config.routes[0]?.match.path_prefix, '/')
})

test('refuses duplicate route names, unknown policies and authorized routes without a signing key', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'aauth-cfg-'))
  const file = join(dir, 'g.yaml')
  writeFileSync(
    file,
    `routes:\n  - name: a\n    upstream: "http://127.0.0.1:1"\n    policy: nope\n  - name: a\n    upstream: "http://127.0.0.1:1"\n    access: authorized\n`,
  )
  await assert.rejects(buildSnapshot(file), (err: unknown) => {
    assert.ok(err instanceof ConfigError)
    const lines = err.problems.map((p) => `${p.line} ${p.key}`)
    assert.deepEqual(lines.sort(), ['4 routes.0.policy', '5 routes.1.name', '7 routes.1.access'].sort())
    return true
  })
})

test('`aauth-gateway check` exits 0 on the shipped config and 1 with file:line errors otherwise', async () => {
  const run = promisify(execFile)
  // The shipped config and policies as a fresh clone has them: no .aauth/ until `npm start`'s
  // keygen step writes the resource key config/gateway.yaml names.
  const clone = mkdtempSync(join(tmpdir(), 'aauth-clone-'))
  cpSync('config', join(clone, 'config'), { recursive: true })
  cpSync('policies', join(clone, 'policies'), { recursive: true })
  const shipped = join(clone, 'config', 'gateway.yaml')
  await assert.rejects(run(process.execPath, ['bin/aauth-gateway.js', 'check', '--config', shipped]), (err: { code: number; stderr: string }) => {
    assert.equal(err.code, 1)
    assert.match(err.stderr, /resource\.signing_key: cannot read signing key .*\.aauth\/resource\.jwk\.json/)
    return true
  })
  for (let i = 0; i < 2; i++) {
    await run(process.execPath, ['bin/aauth-gateway.js', 'keygen', '--out', join(clone, '.aauth', 'resource.jwk.json'), '--if-missing'])
  }
  const ok = await run(process.execPath, ['bin/aauth-gateway.js', 'check', '--config', shipped])
  assert.match(ok.stdout, /config\/gateway\.yaml: ok/)
  const dir = mkdtempSync(join(tmpdir(), 'aauth-cfg-'))
  const bad = join(dir, 'bad.yaml')
  writeFileSync(bad, `listen: "x"\nroutes:\n  - name: r\n    upstream: "http://127.0.0.1:1"\n    mode: loud\n`)
  await assert.rejects(run(process.execPath, ['bin/aauth-gateway.js', 'check', '--config', bad]), (err: { code: number; stderr: string }) => {
    assert.equal(err.code, 1)
    assert.ok(err.stderr.includes(`${bad}:1: listen:`), err.stderr)
    assert.ok(err.stderr.includes(`${bad}:5: routes.0.mode:`), err.stderr)
    return true
  })
})

test('reports config and policy problems together', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'aauth-cfg-'))
  const file = join(dir, 'g.yaml')
  writeFileSync(file, `routes:\n  - name: a\n    upstream: "http://127.0.0.1:1"\n    acess: open\npolicies: p\n`)
  const { mkdirSync } = await import('node:fs')
  mkdirSync(join(dir, 'p'))
  writeFileSync(join(dir, 'p', 'x.yaml'), `name: x\nrules:\n  - allow: 'aauth.agnet == "a"'\n`)
  await assert.rejects(buildSnapshot(file), (err: unknown) => {
    assert.ok(err instanceof ConfigError)
    assert.deepEqual(
      err.problems.map((p) => `${p.file.slice(dir.length + 1)}:${p.line} ${p.key}`),
      ['g.yaml:4 routes.0.acess', 'p/x.yaml:3 rules.0.allow'],
    )
    return true
  })
})

test('signatures.revocation: defaults 100000 in all and 10000 per issuer; bounds must be positive integers', () => {
  const defaults = parseConfigText(ROUTE, 'g.yaml').config.signatures.revocation
  assert.deepEqual(defaults, { max_entries: 100_000, max_per_issuer: 10_000 })
  const text = `signatures:\n  revocation:\n    max_entries: 0\n    max_per_issuer: 2.5\n${ROUTE}`
  const problems = problemsOf(() => parseConfigText(text, 'g.yaml'))
  assert.equal(problems.length, 2)
  assert.match(problems[0] ?? '', /^3 signatures\.revocation\.max_entries: /)
  assert.match(problems[1] ?? '', /^4 signatures\.revocation\.max_per_issuer: /)
})

test('a section left out gets the same defaults as the section written empty (defaults are written once)', () => {
  const omitted = parseConfigText('routes: []\n', 'g.yaml').config
  const empty = parseConfigText(
    'resource: {}\ntrust: {}\nsignatures:\n  replay: {}\n  revocation: {}\nlimits: {}\nstore: {}\nlog: {}\nroutes:\n  - name: r\n    upstream: http://127.0.0.1:1\n',
    'g.yaml',
  ).config
  const { routes, ...rest } = empty
  assert.deepEqual({ ...omitted, routes: [] }, { ...rest, routes: [] })
  assert.deepEqual(omitted.limits, { max_header_bytes: 16_384, header_timeout: 10, fetch_timeout: 5, fetch_max_bytes: 262_144, drain_timeout: 30, tunnel_idle_timeout: 300 })
  assert.deepEqual(omitted.store, { type: 'memory', key_prefix: 'aauth-gateway:', timeout: 0.25, fail_open: false })
  assert.deepEqual(routes[0]?.match, { path_prefix: '/' }, 'a route without match gets the match defaults')
})

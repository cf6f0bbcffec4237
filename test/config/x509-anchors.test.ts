import assert from 'node:assert/strict'
import { copyFileSync, mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { buildSnapshot } from '../../src/config/compile.js'
import { configSources, fingerprint } from '../../src/config/sources.js'
import { watchedDirectories } from '../../src/config/watch.js'
import { ConfigError } from '../../src/errors.js'
import { X509_FIXTURES } from '../helpers/scheme-tokens.js'

const ROUTE = `routes:
  - name: data
    match: { path_prefix: "/data" }
    upstream: "http://127.0.0.1:3000"
`

async function problems(yaml: string): Promise<string[]> {
  const dir = mkdtempSync(join(tmpdir(), 'aauth-x509-'))
  copyFileSync(join(X509_FIXTURES, 'root.pem'), join(dir, 'root.pem'))
  copyFileSync(join(X509_FIXTURES, 'ed25519.pem'), join(dir, 'leaf.pem'))
  const file = join(dir, 'gateway.yaml')
  writeFileSync(file, yaml + ROUTE)
  try {
    await buildSnapshot(file, {})
    return []
  } catch (err) {
    if (err instanceof ConfigError) return err.problems.map((p) => `${p.line} ${p.key}: ${p.message}`)
    throw err
  }
}

test('trust.x509_anchors: CA files relative to the config are read into the snapshot', async () => {
  assert.deepEqual(await problems('trust:\n  x509_anchors: [root.pem]\nsignatures:\n  schemes: [x509]\n'), [])
})

test('x509 without anchors, a missing file, or a leaf as an anchor is a config error with its line', async () => {
  assert.match((await problems('signatures:\n  schemes: [x509, hwk]\n'))[0] ?? '', /^2 signatures\.schemes: x509 needs trust\.x509_anchors/)
  assert.match((await problems('trust:\n  x509_anchors: [nope.pem]\n'))[0] ?? '', /^2 trust\.x509_anchors: cannot read .*nope\.pem/)
  assert.match((await problems('trust:\n  x509_anchors: [leaf.pem]\n'))[0] ?? '', /^2 trust\.x509_anchors: .*is not a CA certificate/)
})

test('an anchor file is one of the reload sources: replacing it changes the fingerprint', () => {
  const dir = mkdtempSync(join(tmpdir(), 'aauth-x509-'))
  copyFileSync(join(X509_FIXTURES, 'root.pem'), join(dir, 'root.pem'))
  const file = join(dir, 'gateway.yaml')
  writeFileSync(file, `trust:\n  x509_anchors: [root.pem]\n${ROUTE}`)
  const sources = configSources(file, {})
  assert.deepEqual(sources.x509AnchorFiles, [join(dir, 'root.pem')])
  assert.ok(watchedDirectories(sources).includes(dir))
  const before = fingerprint(sources)
  copyFileSync(join(X509_FIXTURES, 'other-root.pem'), join(dir, 'root.pem'))
  assert.notEqual(fingerprint(sources), before)
})

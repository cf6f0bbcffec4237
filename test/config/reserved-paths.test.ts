import assert from 'node:assert/strict'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, test } from 'node:test'
import { buildSnapshot } from '../../src/config/compile.js'
import { ConfigError } from '../../src/errors.js'
import { resourceKeyFile } from '../helpers/authorization.js'

/** A config file with a resource signing key beside it (or none), and these routes. */
function configFile(routes: string, signingKey = true): string {
  const dir = mkdtempSync(join(tmpdir(), 'aauth-reserved-'))
  writeFileSync(join(dir, 'resource-key.json'), resourceKeyFile())
  const key = signingKey ? '  signing_key: resource-key.json\n' : ''
  writeFileSync(join(dir, 'g.yaml'), `resource:\n  issuer: https://api.test\n${key}routes:\n${routes}`)
  return join(dir, 'g.yaml')
}

const route = (name: string, prefix: string): string => `  - name: ${name}\n    match: { path_prefix: "${prefix}" }\n    upstream: "http://127.0.0.1:3000"\n`

async function problemsOf(file: string): Promise<string[]> {
  try {
    await buildSnapshot(file)
  } catch (err) {
    if (err instanceof ConfigError) return err.problems.map((p) => `${p.file}:${p.line} ${p.key}: ${p.message}`)
    throw err
  }
  return []
}

describe('routes and the resource\'s own endpoints (README "Config")', () => {
  test('a route on the revocation path or a well-known document is a config error naming the file and line', async () => {
    const file = configFile(route('all', '/') + route('revoke', '/aauth/revocation') + route('meta', '/.well-known/aauth-resource-jwks.json/'))
    assert.deepEqual(await problemsOf(file), [
      `${file}:9 routes.1.match.path_prefix: /aauth/revocation is served by the gateway itself (README "Config"); this route would never see it`,
      `${file}:12 routes.2.match.path_prefix: /.well-known/aauth-resource-jwks.json is served by the gateway itself (README "Config"); this route would never see it`,
    ])
  })

  test('with a deferred route, /aauth/pending/ is an entry of the table, and a route beneath it is a config error', async () => {
    const deferred = (name: string, prefix: string): string =>
      `  - name: ${name}\n    match: { path_prefix: "${prefix}" }\n    upstream: "http://127.0.0.1:3000"\n    access: authorized\n    deferred: true\n`
    const { routes } = await buildSnapshot(configFile(route('all', '/') + deferred('held', '/records')))
    assert.equal(routes.match('api.test', '/aauth/pending/abc', 'GET').kind, 'pending')
    assert.equal(routes.match('api.test', '/aauth/pendings', 'GET').name, 'all')
    const without = await buildSnapshot(configFile(route('all', '/')))
    assert.equal(without.routes.match('api.test', '/aauth/pending/abc', 'GET').name, 'all', 'no deferred route, no pending entry')
    const file = configFile(deferred('held', '/records') + route('shadow', '/aauth/pending/x'))
    assert.deepEqual(await problemsOf(file), [
      `${file}:11 routes.1.match.path_prefix: /aauth/pending/ holds the pending URLs of deferred challenges (docs/access-modes.md); this route would take them`,
    ])
  })

  test('without a signing key only the metadata document is reserved', async () => {
    assert.deepEqual(await problemsOf(configFile(route('revoke', '/aauth/revocation'), false)), [])
    const [problem] = await problemsOf(configFile(route('meta', '/.well-known/aauth-resource.json'), false))
    assert.match(problem ?? '', /:5 routes\.0\.match\.path_prefix: \/\.well-known\/aauth-resource\.json is served by the gateway itself/)
  })

  test('the endpoints answer their exact paths; every other path, and other methods on documents, go to the routes', async () => {
    const { routes } = await buildSnapshot(configFile(route('all', '/') + route('under', '/aauth/revocation/x') + route('known', '/.well-known')))
    const at = (path: string, method = 'GET'): string => {
      const entry = routes.match('api.test', path, method)
      return `${entry.kind} ${entry.name}`
    }
    assert.equal(at('/.well-known/aauth-resource.json'), 'document (well-known)')
    assert.equal(at('/.well-known/aauth-resource-jwks.json'), 'document (well-known)')
    assert.equal(at('/.well-known/aauth-resource.json', 'POST'), 'upstream known')
    assert.equal(at('/.well-known/aauth-resource.json/more'), 'upstream known')
    assert.equal(at('/.well-known/other.json'), 'upstream known')
    assert.equal(at('/aauth/revocation', 'POST'), 'revocation revocation')
    assert.equal(at('/aauth/revocation', 'GET'), 'revocation revocation', 'any method, so the endpoint answers 405 itself')
    assert.equal(at('/aauth/revocation/x'), 'upstream under')
    assert.equal(at('/aauth/revocations'), 'upstream all')
  })
})

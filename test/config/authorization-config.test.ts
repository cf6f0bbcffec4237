import assert from 'node:assert/strict'
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, test } from 'node:test'
import { buildSnapshot } from '../../src/config/compile.js'
import { ConfigError } from '../../src/errors.js'
import { resourceKeyFile } from '../helpers/authorization.js'

/** A config file with a `grant` policy and a resource key beside it; `resource` and `routes` as YAML lines. */
function configFile(resource: string, routes: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'aauth-authz-'))
  writeFileSync(join(dir, 'resource-key.json'), resourceKeyFile())
  mkdirSync(join(dir, 'policies'))
  writeFileSync(join(dir, 'policies', 'grant.yaml'), 'name: grant\nrules:\n  - allow: aauth.user != ""\n')
  writeFileSync(join(dir, 'g.yaml'), `policies: policies\nresource:\n  issuer: https://api.test\n${resource}routes:\n${routes}`)
  return join(dir, 'g.yaml')
}

/** A session-token route (enforced as auth-token when no sessions are issued). */
const sessionRoute = '  - name: notes\n    match: { path_prefix: "/notes" }\n    upstream: "http://127.0.0.1:3000"\n    access: session-token\n'

async function problemsOf(file: string): Promise<string[]> {
  try {
    await buildSnapshot(file)
  } catch (err) {
    if (err instanceof ConfigError) return err.problems.map((p) => `${p.line} ${p.key}: ${p.message}`)
    throw err
  }
  return []
}

describe('resource.authorization and session-token routes (docs/configuration.md)', () => {
  test('a grant naming no policy, or an endpoint without a signing key, is a config error', async () => {
    const unknown = configFile('  signing_key: resource-key.json\n  authorization: { grant: nobody }\n', sessionRoute)
    assert.deepEqual(await problemsOf(unknown), ['5 resource.authorization.grant: no policy named "nobody"'])
    const keyless = configFile('  authorization: { grant: grant }\n', sessionRoute)
    assert.deepEqual(await problemsOf(keyless), [
      '9 routes.0.access: access: session-token needs resource.signing_key (to mint resource tokens)',
      '4 resource.authorization: the authorization endpoint needs resource.signing_key (a refused grant answers with a resource token)',
    ])
  })

  test('resource.authorization and resource.authorization_endpoint together are a config error', async () => {
    const file = configFile('  signing_key: resource-key.json\n  authorization: { grant: grant }\n  authorization_endpoint: https://api.test/authorize\n', sessionRoute)
    assert.deepEqual(await problemsOf(file), [
      '6 resource.authorization_endpoint: resource.authorization serves the authorization endpoint itself; drop resource.authorization_endpoint',
    ])
  })

  test('a route on /aauth/authorize is refused once the endpoint is served', async () => {
    const file = configFile(
      '  signing_key: resource-key.json\n  authorization: { grant: grant }\n',
      '  - name: authz\n    match: { path_prefix: "/aauth/authorize" }\n    upstream: "http://127.0.0.1:3000"\n',
    )
    assert.deepEqual(await problemsOf(file), ['8 routes.0.match.path_prefix: /aauth/authorize is served by the gateway itself (README "Config"); this route would never see it'])
  })
})

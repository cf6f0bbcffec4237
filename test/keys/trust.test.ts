import assert from 'node:assert/strict'
import { test } from 'node:test'
import { isIssuerOrigin, isServerIdentifier, isTrusted } from '../../src/keys/trust.js'
import { resourceConfig } from '../helpers/resolve-context.js'
import { readVector } from '../helpers/vectors.js'

test('matches the aauth-go server-identifier vectors', () => {
  const file = readVector<{ cases: { input: string; valid: boolean }[] }>('aauth-go/server-identifier.json')
  for (const c of file.cases) assert.equal(isServerIdentifier(c.input), c.valid, c.input)
})

test('admits an http origin only when listed exactly in insecure_issuers', () => {
  const config = resourceConfig({ trust: { insecure_issuers: ['http://127.0.0.1:8001'] } })
  assert.equal(isIssuerOrigin('http://127.0.0.1:8001', config, false), true)
  assert.equal(isIssuerOrigin('http://127.0.0.1:8002', config, false), false)
  assert.equal(isIssuerOrigin('http://127.0.0.1:8001/', config, false), false)
})

test('the legacy format also allows an https origin with a port, nothing more', () => {
  const config = resourceConfig()
  assert.equal(isIssuerOrigin('https://agent.test:8443', config, false), false)
  assert.equal(isIssuerOrigin('https://agent.test:8443', config, true), true)
  assert.equal(isIssuerOrigin('https://agent.test:8443/x', config, true), false)
  assert.equal(isIssuerOrigin('https://Agent.test', config, true), false)
})

test('"*" trusts any https issuer and listed insecure origins, never other http', () => {
  const config = resourceConfig({
    trust: { agent_providers: ['*'], person_servers: ['https://ps.test'], insecure_issuers: ['http://127.0.0.1:9'] },
  })
  assert.equal(isTrusted('https://any.test', ['agent_providers'], config), true)
  assert.equal(isTrusted('http://127.0.0.1:9', ['agent_providers'], config), true)
  assert.equal(isTrusted('http://any.test', ['agent_providers'], config), false)
  assert.equal(isTrusted('https://any.test', ['person_servers'], config), false)
  assert.equal(isTrusted('https://ps.test', ['access_servers', 'person_servers'], config), true)
})

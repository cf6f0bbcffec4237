import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import { generatePrivateJwk } from '../../src/devkit/keys.js'
import { startAgentServer, type AgentServer } from '../../src/devkit/agent-server.js'
import { startBackend, type Backend } from '../../src/devkit/backend.js'
import { startPersonServer, type PersonServer } from '../../src/devkit/person-server.js'
import { cli } from '../helpers/cli.js'
import { startTestGateway, type TestGateway } from '../helpers/gateway.js'
import { closedPort } from '../helpers/ports.js'

/**
 * `request --person-server` (README "Quick start"): the step-up to an `authorized` route against
 * a real gateway, agent server and person server on loopback. The gateway's resource identifier
 * is its own origin (the person server fetches its metadata to check resource tokens), known once
 * it listens, so the config is written again with it and reloaded, as the demo does.
 */
describe('aauth-gateway request --person-server: the step-up to an authorized route', () => {
  let agent: AgentServer
  let ps: PersonServer
  let backend: Backend
  let gw: TestGateway

  before(async () => {
    agent = await startAgentServer()
    ps = await startPersonServer({ agentServers: [agent.origin] })
    backend = await startBackend()
    const key = JSON.stringify({ ...generatePrivateJwk('Ed25519'), kid: 'resource-1', alg: 'Ed25519' })
    const config = (issuer: string): Record<string, unknown> => ({
      resource: { issuer, signing_key: 'resource.jwk.json', scopes: { 'records.read': 'Read records' } },
      trust: { agent_providers: [agent.origin], person_servers: [ps.origin], insecure_issuers: [agent.origin, ps.origin] },
      routes: [
        { name: 'records', match: { path_prefix: '/records' }, upstream: backend.url, access: 'authorized', scopes: ['records.read'] },
        { name: 'data', match: { path_prefix: '/data' }, upstream: backend.url, access: 'identified' },
      ],
    })
    gw = await startTestGateway(config('http://127.0.0.1:0'), { 'resource.jwk.json': key })
    gw.writeConfig(config(gw.url))
    assert.ok(await gw.reload(), 'the gateway takes its own origin as the resource identifier')
  })
  after(async () => {
    await gw.close()
    await backend.close()
    await ps.close()
    await agent.close()
  })

  test('person token, then auth token, then 200: each step on stderr, the backend sees the authorized level', async () => {
    const run = await cli(['request', '--agent-server', agent.origin, '--person-server', ps.origin, `${gw.url}/records/7`])
    assert.equal(run.code, 0, run.stderr)
    assert.match(run.stdout, /^HTTP\/1\.1 200 OK\n/)
    const steps = run.stderr.trim().split('\n')
    assert.equal(steps.length, 2, run.stderr)
    assert.match(steps[0] ?? '', new RegExp(`^step-up: 401 requirement=person-token -> POST ${ps.origin}/person/token \\{"resource": "${gw.url}"\\} -> person token; sending again with it$`))
    assert.match(steps[1] ?? '', new RegExp(`^step-up: 401 requirement=auth-token, resource token for scope 'records.read' -> POST ${ps.origin}/auth/token -> auth token; sending again with it$`))
    const saw = backend.last().headers
    assert.equal(saw['x-aauth-level'], 'authorized')
    assert.equal(saw['x-aauth-scope'], 'records.read')
    assert.equal(saw['x-aauth-token-type'], 'aa-auth+jwt')
    assert.equal(saw['x-aauth-user'], ps.directedSub(gw.url))
    assert.equal(saw['x-aauth-user-issuer'], ps.origin)
  })

  test('a route the agent token already opens: no step is taken', async () => {
    const run = await cli(['request', '--agent-server', agent.origin, '--person-server', ps.origin, `${gw.url}/data/1`])
    assert.equal(run.code, 0, run.stderr)
    assert.equal(run.stderr, '')
    assert.equal(backend.last().headers['x-aauth-level'], 'identified')
  })

  test('without --person-server the 401 is printed and explained; a person server the gateway does not trust ends in its 401', async () => {
    const plain = await cli(['request', '--agent-server', agent.origin, `${gw.url}/records/7`])
    assert.equal(plain.code, 1)
    assert.match(plain.stdout, /^aauth-requirement: requirement=person-token$/m)
    assert.match(plain.stderr, /next: add --person-server URL/)

    const stranger = await startPersonServer({ agentServers: [agent.origin] })
    try {
      const run = await cli(['request', '--agent-server', agent.origin, '--person-server', stranger.origin, `${gw.url}/records/7`])
      assert.equal(run.code, 1, run.stdout)
      assert.match(run.stderr, /^step-up: 401 requirement=person-token/m)
      assert.match(run.stdout, /^HTTP\/1\.1 401 Unauthorized\n/)
      // An http:// issuer outside trust.insecure_issuers is not a server identifier to the gateway.
      assert.match(run.stdout, /^signature-error: error=invalid_jwt$/m)
      assert.match(run.stderr, /Signature-Error invalid_jwt: /)
    } finally {
      await stranger.close()
    }
  })

  test('usage and network errors exit 2 with a message', async () => {
    const alone = await cli(['request', '--person-server', ps.origin, `${gw.url}/records/7`])
    assert.equal(alone.code, 2)
    assert.match(alone.stderr, /--person-server needs --agent-server/)
    const notOrigin = await cli(['request', '--agent-server', agent.origin, '--person-server', 'ps.local', `${gw.url}/records/7`])
    assert.equal(notOrigin.code, 2)
    assert.match(notOrigin.stderr, /--person-server 'ps\.local' is not an origin/)
    const port = await closedPort()
    const down = await cli(['request', '--agent-server', agent.origin, '--person-server', `http://127.0.0.1:${port}`, `${gw.url}/records/7`])
    assert.equal(down.code, 2)
    assert.match(down.stderr, /aauth-person\.json did not answer \(ECONNREFUSED\); is `aauth-gateway person-server` running\?/)
  })
})

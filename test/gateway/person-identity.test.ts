import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import type { AgentServer } from '../../src/devkit/agent-server.js'
import { callWithToken, mintPersonToken, newDelegate } from '../helpers/authorization.js'
import type { Backend } from '../../src/devkit/backend.js'
import { AUTHORITY, startTestWorld, type TestGateway, type TestWorld } from '../helpers/gateway.js'
import { newKey } from '../../src/devkit/keys.js'

const RESOURCE = 'https://api.test'

/** A policy for routes that need to know the agent, not only the person. */
const NAMED_AGENT = `name: named-agent
rules:
  - require: 'aauth.agent != ""'
`

describe('a person token alone ("person identity" access, AAuth -11)', () => {
  let agent: AgentServer
  let ps: AgentServer
  let backend: Backend
  let gw: TestGateway
  const key = newKey('Ed25519')

  let world: TestWorld

  before(async () => {
    world = await startTestWorld(
      ({ issuers: [agent, ps], backend }) => ({
        resource: { issuer: RESOURCE, authority: AUTHORITY },
        trust: { agent_providers: [agent?.origin], person_servers: [ps?.origin], insecure_issuers: [agent?.origin, ps?.origin] },
        policies: 'policies',
        routes: [
          { name: 'profile', match: { path_prefix: '/profile' }, upstream: backend.url, access: 'identified' },
          { name: 'agents-only', match: { path_prefix: '/agents-only' }, upstream: backend.url, access: 'identified', policy: 'named-agent' },
        ],
      }),
      { issuers: 2, files: { 'policies/named-agent.yaml': NAMED_AGENT } },
    )
    ;({ backend, gw } = world)
    ;[agent, ps] = world.issuers as [AgentServer, AgentServer]
  })
  after(() => world.close())

  test('satisfies access: identified, forwarding the person and no agent', async () => {
    const res = await callWithToken(gw, '/profile', key, await mintPersonToken(ps, RESOURCE, key))
    assert.equal(res.status, 200, res.text)
    const got = backend.last().headers
    assert.equal(got['x-aauth-level'], 'identified')
    assert.equal(got['x-aauth-token-type'], 'aa-person+jwt')
    assert.equal(got['x-aauth-user'], 'person-1')
    assert.equal(got['x-aauth-agent'], undefined, 'a person token names no agent')
  })

  test('is still bound to the agent key: signed by another key it is invalid_signature', async () => {
    const res = await callWithToken(gw, '/profile', newKey('Ed25519'), await mintPersonToken(ps, RESOURCE, key))
    assert.equal(res.status, 401)
    assert.equal(res.headers.get('signature-error'), 'error=invalid_signature')
  })

  test('a route that must know the agent says so in policy: the person token is denied, an agent token allowed', async () => {
    const denied = await callWithToken(gw, '/agents-only', key, await mintPersonToken(ps, RESOURCE, key))
    assert.equal(denied.status, 403, denied.text)
    assert.equal(denied.json().policy, 'named-agent')
    const delegate = await newDelegate(agent)
    const allowed = await callWithToken(gw, '/agents-only', delegate.key, delegate.agentToken)
    assert.equal(allowed.status, 200, allowed.text)
    assert.equal(backend.last().headers['x-aauth-agent'], agent.origin)
  })
})

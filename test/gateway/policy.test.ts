import assert from 'node:assert/strict'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import { signRequest } from '../../src/devkit/sign.js'
import { startAgentServer, type AgentServer } from '../../src/devkit/agent-server.js'
import { startBackend, type Backend } from '../../src/devkit/backend.js'
import { AUTHORITY, send, startTestGateway, type TestGateway } from '../helpers/gateway.js'
import { newKey, type DevKey } from '../../src/devkit/keys.js'

const policyFile = (agent: string, extra = ''): string => `name: agents
rules:
  - allow: 'aauth.agent == "${agent}"'
  - deny: 'aauth.agent_delegate.startsWith("revoked-")'
  - require: 'request.method == "GET" || "data.write" in aauth.scope'
${extra}`

describe('policies enforced by the gateway', () => {
  let agent: AgentServer
  let backend: Backend
  let gw: TestGateway

  before(async () => {
    agent = await startAgentServer()
    agent.addKey()
    backend = await startBackend()
    const config = {
      resource: { issuer: 'https://api.test', authority: AUTHORITY },
      trust: { agent_providers: [agent.origin], insecure_issuers: [agent.origin] },
      policies: 'policies',
      routes: [
        { name: 'data', match: { path_prefix: '/data' }, upstream: backend.url, access: 'identified', policy: 'agents' },
        { name: 'shadow', match: { path_prefix: '/shadow' }, upstream: backend.url, access: 'identified', policy: 'agents', mode: 'shadow' },
      ],
    }
    gw = await startTestGateway(config, { 'policies/agents.yaml': policyFile(agent.origin) })
  })
  after(async () => {
    await gw.close()
    await backend.close()
    await agent.close()
  })

  async function delegate(sub: string): Promise<{ key: DevKey; token: string }> {
    const key = newKey('Ed25519')
    return { key, token: await agent.agentToken(key.publicJwk, { sub }) }
  }
  let n = 0
  async function call(who: { key: DevKey; token: string }, prefix = '/data', method = 'GET'): Promise<Awaited<ReturnType<typeof send>>> {
    const target = `${prefix}/${++n}`
    const headers = signRequest({ method, authority: AUTHORITY, target }, who.key, { signatureKey: `jwt;jwt="${who.token}"` })
    return send(gw, target, { method, headers })
  }

  test('forwards a request the policy allows, with the agent and delegate upstream', async () => {
    const res = await call(await delegate('aauth:delegate-1@agent.test'))
    assert.equal(res.status, 200, res.text)
    assert.equal(backend.last().headers['x-aauth-agent'], agent.origin)
    assert.equal(backend.last().headers['x-aauth-agent-delegate'], 'aauth:delegate-1@agent.test')
  })

  test('denies with 403 naming the policy and the rule, and no Signature-Error or AAuth-Requirement', async () => {
    const res = await call(await delegate('revoked-7'))
    assert.equal(res.status, 403)
    const body = res.json()
    assert.equal(body.error, 'access_denied')
    assert.equal(body.policy, 'agents')
    assert.equal(body.rule, `deny: aauth.agent_delegate.startsWith("revoked-")`)
    assert.equal(res.headers.get('signature-error'), null)
    assert.equal(res.headers.get('aauth-requirement'), null)
    assert.equal(res.headers.get('accept-signature-scheme'), null)
  })

  test('denies when a require does not hold', async () => {
    const res = await call(await delegate('writer'), '/data', 'POST')
    assert.equal(res.status, 403)
    assert.match(String(res.json().rule), /^require: /)
  })

  test('in shadow mode forwards what it would deny, and counts it with mode="shadow"', async () => {
    const res = await call(await delegate('revoked-9'), '/shadow')
    assert.equal(res.status, 200)
    assert.equal(gw.decisions.at(-1)?.reason, 'shadow_deny')
    const metrics = await (await fetch(gw.adminUrl + '/metrics')).text()
    assert.match(metrics, /aauth_gateway_policy_decisions_total\{route="shadow",policy="agents",result="deny",mode="shadow"\} 1/)
  })

  test('a reload that succeeds swaps the policy; one that fails keeps the old policy and is counted', async () => {
    const who = await delegate('reloaded')
    assert.equal((await call(who)).status, 200)
    writeFileSync(join(gw.dir, 'policies', 'agents.yaml'), policyFile(agent.origin, `  - deny: 'aauth.agent_delegate == "reloaded"'\n`))
    assert.equal(await gw.reload(), true)
    assert.equal((await call(who)).status, 403)

    writeFileSync(join(gw.dir, 'policies', 'agents.yaml'), `name: agents\nrules:\n  - allow: 'aauth.agent ==== 1'\n`)
    assert.equal(await gw.reload(), false)
    assert.equal((await call(who)).status, 403, 'the previous policy still applies')
    const metrics = await (await fetch(gw.adminUrl + '/metrics')).text()
    assert.match(metrics, /aauth_gateway_config_reloads_total\{result="error"\} 1/)
    assert.match(metrics, /aauth_gateway_config_reloads_total\{result="ok"\} [1-9]/)
    writeFileSync(join(gw.dir, 'policies', 'agents.yaml'), policyFile(agent.origin))
    assert.equal(await gw.reload(), true)
  })

  test('reloads under load without failing a request', async () => {
    const who = await delegate('steady')
    const statuses: number[] = []
    let reloading = true
    const reloads = (async () => {
      for (let i = 0; i < 20; i++) assert.equal(await gw.reload(), true)
      reloading = false
    })()
    const load = async (): Promise<void> => {
      while (reloading || statuses.length < 50) statuses.push((await call(who)).status)
    }
    await Promise.all([reloads, load(), load()])
    assert.ok(statuses.length >= 50)
    assert.deepEqual([...new Set(statuses)], [200])
  })
})

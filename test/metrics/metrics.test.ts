import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { after, before, describe, test } from 'node:test'
import { signRequest } from '../../src/devkit/sign.js'
import { startAgentServer, type AgentServer } from '../../src/devkit/agent-server.js'
import { startBackend, type Backend } from '../../src/devkit/backend.js'
import { eventually } from '../helpers/eventually.js'
import { AUTHORITY, send, startTestGateway, type TestGateway } from '../helpers/gateway.js'
import { newKey } from '../../src/devkit/keys.js'

/** The value of one sample in Prometheus text format, or undefined when absent. */
function sample(text: string, series: string): number | undefined {
  for (const line of text.split('\n')) {
    if (line.startsWith(series + ' ')) return Number(line.slice(series.length + 1))
  }
  return undefined
}

describe('metrics by Prometheus conventions', () => {
  let backend: Backend
  let slow: Backend
  let agent: AgentServer
  let gw: TestGateway
  const scrape = async (): Promise<string> => (await fetch(gw.adminUrl + '/metrics')).text()

  before(async () => {
    backend = await startBackend()
    slow = await startBackend({ delayMs: 1000 })
    agent = await startAgentServer()
    agent.addKey()
    gw = await startTestGateway({
      resource: { issuer: 'https://api.test', authority: AUTHORITY },
      trust: { agent_providers: [agent.origin], insecure_issuers: [agent.origin] },
      routes: [
        { name: 'data', match: { path_prefix: '/data' }, upstream: backend.url, access: 'identified' },
        { name: 'slow', match: { path_prefix: '/slow' }, upstream: slow.url, access: 'open' },
      ],
    })
  })
  after(async () => {
    await gw.close()
    await agent.close()
    await slow.close()
    await backend.close()
  })

  test('aauth_gateway_build_info carries the package version, value 1', async () => {
    const { version } = JSON.parse(readFileSync('package.json', 'utf8')) as { version: string }
    assert.equal(sample(await scrape(), `aauth_gateway_build_info{version="${version}"}`), 1)
  })

  test('the last reload gauges: 1 and a timestamp after start, 0 after a failed reload, 1 again after a good one', async () => {
    const start = sample(await scrape(), 'aauth_gateway_config_last_reload_success_timestamp_seconds') ?? 0
    assert.ok(Math.abs(start - Date.now() / 1000) < 60, `timestamp ${start}`)
    assert.equal(sample(await scrape(), 'aauth_gateway_config_last_reload_successful'), 1)

    const config = {
      resource: { issuer: 'https://api.test', authority: AUTHORITY },
      trust: { agent_providers: [agent.origin], insecure_issuers: [agent.origin] },
      routes: [
        { name: 'data', match: { path_prefix: '/data' }, upstream: backend.url, access: 'identified' },
        { name: 'slow', match: { path_prefix: '/slow' }, upstream: slow.url, access: 'open' },
      ],
    }
    gw.writeConfig({ ...config, routes: 'broken' })
    assert.equal(await gw.reload(), false)
    let text = await scrape()
    assert.equal(sample(text, 'aauth_gateway_config_last_reload_successful'), 0)
    assert.equal(sample(text, 'aauth_gateway_config_last_reload_success_timestamp_seconds'), start, 'a failure leaves the last success time')

    gw.writeConfig(config)
    assert.equal(await gw.reload(), true)
    text = await scrape()
    assert.equal(sample(text, 'aauth_gateway_config_last_reload_successful'), 1)
    assert.ok((sample(text, 'aauth_gateway_config_last_reload_success_timestamp_seconds') ?? 0) >= start)
  })

  test('aauth_gateway_requests_in_flight counts a request while it is being answered, and not after', async () => {
    const pending = send(gw, '/slow/1')
    await eventually('the slow request counted in flight', async () => (sample(await scrape(), 'aauth_gateway_requests_in_flight') ?? 0) >= 1)
    assert.equal((await pending).status, 200)
    await eventually('back to zero', async () => sample(await scrape(), 'aauth_gateway_requests_in_flight') === 0)
  })

  test('token cache hits and misses, fetches by kind, and cache and store sizes', async () => {
    const key = newKey('Ed25519')
    const token = await agent.agentToken(key.publicJwk, { sub: 'delegate-1' })
    for (const n of [1, 2, 3]) {
      const target = `/data/${n}`
      const headers = signRequest({ method: 'GET', authority: AUTHORITY, target }, key, { signatureKey: `jwt;jwt="${token}"` })
      assert.equal((await send(gw, target, { headers })).status, 200)
    }
    const text = await scrape()
    assert.equal(sample(text, 'aauth_gateway_token_cache_total{result="miss"}'), 1, 'the first request verifies the token')
    assert.equal(sample(text, 'aauth_gateway_token_cache_total{result="hit"}'), 2, 'the next ones do not')
    assert.equal(sample(text, 'aauth_gateway_jwks_fetch_total{result="ok",kind="metadata"}'), 1)
    assert.equal(sample(text, 'aauth_gateway_jwks_fetch_total{result="ok",kind="jwks"}'), 1)
    assert.equal(sample(text, 'aauth_gateway_cache_entries{cache="metadata"}'), 1)
    assert.equal(sample(text, 'aauth_gateway_cache_entries{cache="jwks"}'), 1)
    assert.equal(sample(text, 'aauth_gateway_cache_entries{cache="tokens"}'), 1)
    assert.ok((sample(text, 'aauth_gateway_cache_entries{cache="keys"}') ?? 0) >= 1)
    assert.equal(sample(text, 'aauth_gateway_store_entries{store="replay"}'), 3, 'one per accepted signature')
    assert.equal(sample(text, 'aauth_gateway_store_entries{store="revocation"}'), 0)
  })

  test('a request for no route is labelled route="(none)", never an empty route', async () => {
    await send(gw, '/nowhere')
    const text = await scrape()
    assert.match(text, /aauth_gateway_requests_total\{route="\(none\)",decision="error",reason="route_not_found",level="none"\} [1-9]/)
    assert.doesNotMatch(text, /route=""/)
  })

  test('store errors are declared for the shared store to count', async () => {
    assert.match(await scrape(), /# TYPE aauth_gateway_store_errors_total counter/)
  })
})

import assert from 'node:assert/strict'
import { mkdtempSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import { calculateJwkThumbprint, createLocalJWKSet, decodeProtectedHeader, jwtVerify, type JSONWebKeySet } from 'jose'
import { Delegate } from '../../src/demo/delegate.js'
import { startAgentServer, type AgentServer } from '../../src/devkit/agent-server.js'
import { cli, startCli } from '../helpers/cli.js'

async function getJson(url: string): Promise<Record<string, unknown>> {
  const res = await fetch(url)
  assert.equal(res.status, 200, url)
  return (await res.json()) as Record<string, unknown>
}

describe('aauth-gateway person-server', () => {
  const tmp = mkdtempSync(join(tmpdir(), 'aauth-person-server-'))
  let agent: AgentServer
  before(async () => {
    agent = await startAgentServer()
  })
  after(async () => {
    await agent.close()
    rmSync(tmp, { recursive: true, force: true })
  })

  test('issues person tokens bound to the caller\'s key; prints the trust lines; a restart keeps the key', async () => {
    const keyFile = join(tmp, '.aauth', 'person-server.jwk.json')
    const args = ['person-server', '--listen', '127.0.0.1:0', '--key', keyFile, '--agent-server', agent.origin]
    const first = startCli(args, { cwd: tmp })
    const issuer = (await first.waitFor(/issuer (http:\/\/127\.0\.0\.1:\d+),/))[1] ?? ''
    await first.waitFor(/insecure_issuers/)
    assert.match(first.stdout(), new RegExp(`^trust:\\n  person_servers: \\["${issuer}"\\]\\n  insecure_issuers: \\["${issuer}"\\]`, 'm'))
    assert.match(first.stdout(), /\(created; kid person-server-1\)/)
    assert.equal(statSync(keyFile).mode & 0o777, 0o600)

    const metadata = await getJson(`${issuer}/.well-known/aauth-person.json`)
    assert.equal(metadata.issuer, issuer)
    assert.equal(metadata.person_token_endpoint, `${issuer}/person/token`)
    assert.equal(metadata.auth_token_endpoint, `${issuer}/auth/token`)
    const jwks = (await getJson(String(metadata.jwks_uri))) as unknown as JSONWebKeySet
    assert.equal(jwks.keys.length, 1)
    assert.equal(jwks.keys[0]?.d, undefined, 'no private member in the JWKS')

    const d = new Delegate('laptop')
    d.agentToken = await agent.issue('laptop', d.key.publicJwk)
    const ex = await d.call(`${issuer}/person/token`, { token: d.agentToken, json: { resource: 'http://localhost:8080' } })
    assert.equal(ex.status, 200, ex.text)
    const answer = JSON.parse(ex.text) as { person_token: string; expires_in: number }
    assert.equal(answer.expires_in, 3600)
    assert.equal(decodeProtectedHeader(answer.person_token).typ, 'aa-person+jwt')
    const { payload } = await jwtVerify(answer.person_token, createLocalJWKSet(jwks), { issuer, audience: 'http://localhost:8080', typ: 'aa-person+jwt' })
    assert.equal(payload.dwk, 'aauth-person.json')
    assert.match(String(payload.sub), /^[\w-]{22}$/, 'a directed (pairwise) subject')
    const cnf = (payload.cnf as { jwk: Record<string, string> }).jwk
    assert.equal(await calculateJwkThumbprint(cnf), await calculateJwkThumbprint(d.key.publicJwk))

    // Unsigned, or signed with an agent token from an agent server it was not told to trust: 401.
    const unsigned = await fetch(`${issuer}/person/token`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"resource":"http://localhost:8080"}' })
    assert.equal(unsigned.status, 401)
    const stranger = await startAgentServer()
    try {
      const other = new Delegate('other')
      const refused = await other.call(`${issuer}/person/token`, { token: await stranger.issue('other', other.key.publicJwk), json: { resource: 'http://localhost:8080' } })
      assert.equal(refused.status, 401)
      assert.match(refused.text, /not trusted/)
    } finally {
      await stranger.close()
    }
    assert.equal((await first.stop()).code, 0)

    const second = startCli(args, { cwd: tmp })
    const issuer2 = (await second.waitFor(/issuer (http:\/\/127\.0\.0\.1:\d+),/))[1] ?? ''
    await second.waitFor(/insecure_issuers/)
    assert.match(second.stdout(), /\(loaded; kid person-server-1\)/)
    const jwks2 = (await getJson(`${issuer2}/jwks.json`)) as unknown as JSONWebKeySet
    assert.deepEqual(jwks2.keys, jwks.keys, 'the restarted server publishes the same key')
    assert.equal((await second.stop()).code, 0)
  })

  test('a port in use, a bad --listen and a bad --agent-server are refused', async () => {
    const keyFile = join(tmp, 'busy.jwk.json')
    const server = startCli(['person-server', '--listen', '127.0.0.1:0', '--key', keyFile])
    const issuer = (await server.waitFor(/issuer (http:\/\/127\.0\.0\.1:\d+),/))[1] ?? ''
    assert.match(server.stdout(), /takes calls signed with agent tokens from: http:\/\/127\.0\.0\.1:8700$/m, 'the default agent server')
    const busy = await cli(['person-server', '--listen', issuer.slice('http://'.length), '--key', keyFile])
    assert.equal(busy.code, 1)
    assert.match(busy.stderr, /cannot listen on .*: the port is in use/)
    assert.equal((await server.stop()).code, 0)

    const bad = await cli(['person-server', '--listen', 'nowhere'])
    assert.equal(bad.code, 2)
    assert.match(bad.stderr, /--listen 'nowhere' is not HOST:PORT/)
    const path = await cli(['person-server', '--agent-server', 'http://127.0.0.1:8700/x'])
    assert.equal(path.code, 2)
    assert.match(path.stderr, /--agent-server 'http:\/\/127\.0\.0\.1:8700\/x' is not an origin/)
  })
})

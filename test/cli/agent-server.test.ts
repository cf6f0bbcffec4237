import assert from 'node:assert/strict'
import { mkdtempSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, describe, test } from 'node:test'
import { calculateJwkThumbprint, createLocalJWKSet, decodeProtectedHeader, jwtVerify, type JSONWebKeySet } from 'jose'
import { newKey } from '../../src/devkit/keys.js'
import { cli, startCli } from '../helpers/cli.js'

async function getJson(url: string): Promise<Record<string, unknown>> {
  const res = await fetch(url)
  assert.equal(res.status, 200, url)
  return (await res.json()) as Record<string, unknown>
}

async function delegateToken(url: string, body: unknown): Promise<{ status: number; json: Record<string, unknown> }> {
  const res = await fetch(`${url}/delegate/token`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) })
  return { status: res.status, json: (await res.json()) as Record<string, unknown> }
}

describe('aauth-gateway agent-server', () => {
  const tmp = mkdtempSync(join(tmpdir(), 'aauth-agent-server-'))
  after(() => rmSync(tmp, { recursive: true, force: true }))

  test('serves its metadata, its JWKS and aa-agent+jwt tokens; prints the trust lines; a restart keeps the key', async () => {
    const keyFile = join(tmp, '.aauth', 'agent-server.jwk.json')
    const first = startCli(['agent-server', '--listen', '127.0.0.1:0', '--key', keyFile], { cwd: tmp })
    const issuer = (await first.waitFor(/issuer (http:\/\/127\.0\.0\.1:\d+), listening/))[1] ?? ''
    await first.waitFor(/insecure_issuers/)
    assert.match(first.stdout(), new RegExp(`^trust:\\n  agent_providers: \\["${issuer}"\\]\\n  insecure_issuers: \\["${issuer}"\\]`, 'm'))
    assert.match(first.stdout(), /\(created; kid agent-server-1\)/)
    assert.equal(statSync(keyFile).mode & 0o777, 0o600)

    const metadata = await getJson(`${issuer}/.well-known/aauth-agent.json`)
    assert.equal(metadata.issuer, issuer)
    const jwks = (await getJson(String(metadata.jwks_uri))) as unknown as JSONWebKeySet
    assert.equal(jwks.keys.length, 1)
    assert.equal(jwks.keys[0]?.d, undefined, 'no private member in the JWKS')

    // cnf_jwk without alg (as the delegation seed sends it): the bound key gets one.
    const delegate = newKey('Ed25519', 'delegate-key-1')
    const { alg: _alg, ...withoutAlg } = delegate.publicJwk
    const answer = await delegateToken(issuer, { sub: 'delegate-1', cnf_jwk: withoutAlg })
    assert.equal(answer.status, 200)
    assert.equal(answer.json.expires_in, 3600)
    const token = String(answer.json.agent_token)
    assert.equal(decodeProtectedHeader(token).typ, 'aa-agent+jwt')
    const { payload } = await jwtVerify(token, createLocalJWKSet(jwks), { issuer, typ: 'aa-agent+jwt' })
    assert.equal(payload.sub, 'delegate-1')
    assert.equal(payload.dwk, 'aauth-agent.json')
    assert.equal((payload.exp ?? 0) - (payload.iat ?? 0), 3600)
    const cnf = (payload.cnf as { jwk: Record<string, string> }).jwk
    assert.equal(cnf.alg, 'Ed25519')
    assert.equal(await calculateJwkThumbprint(cnf), await calculateJwkThumbprint(delegate.publicJwk))

    // An ES256 key with alg, and refusals that say why.
    const es = newKey('ES256')
    assert.equal((await delegateToken(issuer, { sub: 'd2', cnf_jwk: es.publicJwk })).status, 200)
    const privateKey = await delegateToken(issuer, { sub: 'd3', cnf_jwk: es.privateJwk })
    assert.equal(privateKey.status, 400)
    assert.match(String(privateKey.json.error_description), /public key/)
    assert.equal((await delegateToken(issuer, { cnf_jwk: es.publicJwk })).status, 400)
    assert.equal((await delegateToken(issuer, { sub: 'd4', cnf_jwk: { ...es.publicJwk, alg: 'Ed25519' } })).status, 400)

    assert.equal((await first.stop()).code, 0)

    const second = startCli(['agent-server', '--listen', '127.0.0.1:0', '--key', keyFile], { cwd: tmp })
    const issuer2 = (await second.waitFor(/issuer (http:\/\/127\.0\.0\.1:\d+), listening/))[1] ?? ''
    assert.match(second.stdout(), /\(loaded; kid agent-server-1\)/)
    const jwks2 = (await getJson(`${issuer2}/jwks.json`)) as unknown as JSONWebKeySet
    assert.deepEqual(jwks2.keys, jwks.keys, 'the restarted server publishes the same key')
    assert.equal((await second.stop()).code, 0)
  })

  test('--issuer names the issuer; a port in use and a bad --listen are refused', async () => {
    const keyFile = join(tmp, 'issuer.jwk.json')
    const server = startCli(['agent-server', '--listen', '127.0.0.1:0', '--issuer', 'https://agents.example', '--key', keyFile])
    const url = (await server.waitFor(/listening on (http:\/\/127\.0\.0\.1:\d+)/))[1] ?? ''
    assert.match(server.stdout(), /issuer https:\/\/agents\.example,/)
    assert.doesNotMatch(server.stdout(), /insecure_issuers/, 'an https issuer needs no insecure_issuers line')
    assert.equal((await getJson(`${url}/.well-known/aauth-agent.json`)).issuer, 'https://agents.example')

    const busy = await cli(['agent-server', '--listen', url.slice('http://'.length), '--key', keyFile])
    assert.equal(busy.code, 1)
    assert.match(busy.stderr, /cannot listen on .*: the port is in use/)
    assert.equal((await server.stop()).code, 0)

    const bad = await cli(['agent-server', '--listen', 'nowhere'])
    assert.equal(bad.code, 2)
    assert.match(bad.stderr, /--listen 'nowhere' is not HOST:PORT/)
  })
})

import assert from 'node:assert/strict'
import { connect } from 'node:net'
import { after, before, describe, test } from 'node:test'
import { signRequest } from '../../src/devkit/sign.js'
import type { AgentServer } from '../../src/devkit/agent-server.js'
import type { Backend } from '../../src/devkit/backend.js'
import { closedPort } from '../helpers/ports.js'
import { AUTHORITY, send, startTestWorld, type TestGateway, type TestWorld } from '../helpers/gateway.js'
import { newKey } from '../../src/devkit/keys.js'

const DENY_HWK = `name: no-hwk
rules:
  - deny: 'aauth.scheme == "hwk"'
`

describe('errors that say what to do (and what only the operator learns)', () => {
  let backend: Backend
  let agent: AgentServer
  let gw: TestGateway
  let down: number
  const key = newKey('Ed25519')

  let world: TestWorld

  before(async () => {
    down = await closedPort()
    world = await startTestWorld(
      ({ issuers: [issuer], backend }) => ({
        resource: { issuer: 'https://api.test', authority: AUTHORITY },
        // The agent server may be fetched (insecure_issuers) but is not a trusted agent provider.
        trust: { agent_providers: [], insecure_issuers: [issuer?.origin] },
        signatures: { schemes: ['hwk', 'jwt'] },
        policies: 'policies',
        policies_visible: false,
        routes: [
          { name: 'data', match: { path_prefix: '/data', methods: ['GET', 'POST'] }, upstream: backend.url, access: 'pseudonymous' },
          { name: 'denied', match: { path_prefix: '/denied' }, upstream: backend.url, access: 'pseudonymous', policy: 'no-hwk' },
          { name: 'down', match: { path_prefix: '/down' }, upstream: `http://127.0.0.1:${down}`, access: 'open' },
        ],
      }),
      { files: { 'policies/no-hwk.yaml': DENY_HWK } },
    )
    ;({ backend, gw } = world)
    agent = world.issuers[0] as AgentServer
    agent.addKey()
  })
  after(() => world.close())

  const hostOf = (): string => new URL(gw.url).host

  test('a signature over the Host instead of resource.authority says which authority to sign', async () => {
    const headers = signRequest({ method: 'GET', authority: hostOf(), target: '/data/1' }, key, { signatureKey: key.hwk })
    const res = await send(gw, '/data/1', { headers })
    assert.equal(res.status, 401)
    assert.equal(res.headers.get('signature-error'), 'error=invalid_signature')
    assert.equal(
      res.json().detail,
      `the signature covers @authority "${hostOf()}" (this request's Host), but this resource's @authority is "${AUTHORITY}": sign with "${AUTHORITY}"`,
    )
  })

  test('a signature that fails for another reason keeps the plain message (the retry never accepts)', async () => {
    const other = newKey('Ed25519')
    // Signed over the Host, but by a key other than the one in Signature-Key.
    const headers = signRequest({ method: 'GET', authority: hostOf(), target: '/data/2' }, other, { signatureKey: key.hwk })
    const res = await send(gw, '/data/2', { headers })
    assert.equal(res.status, 401)
    assert.equal(res.json().detail, 'the signature does not verify with the Signature-Key key')
  })

  test('policies_visible: false hides the policy and rule from the agent, not from the decision line', async () => {
    const headers = signRequest({ method: 'GET', authority: AUTHORITY, target: '/denied' }, key, { signatureKey: key.hwk })
    const res = await send(gw, '/denied', { headers })
    assert.equal(res.status, 403)
    const body = res.json()
    assert.equal(body.error, 'access_denied')
    assert.equal(body.detail, 'a policy denied this request')
    assert.equal(body.policy, undefined)
    assert.equal(body.rule, undefined)
    assert.ok(!res.text.includes('no-hwk') && !res.text.includes('hwk"'), res.text)
    const line = gw.decisions.at(-1)
    assert.equal(line?.policy, 'no-hwk')
    assert.equal(line?.rule, 'deny: aauth.scheme == "hwk"')
    assert.match(String(line?.detail), /^policy "no-hwk" denied this request/)
  })

  test('an upstream failure: the client learns it is a 502, the decision line learns where and why', async () => {
    const res = await send(gw, '/down/x')
    assert.equal(res.status, 502)
    assert.equal(res.json().detail, 'the upstream could not be reached')
    assert.ok(!res.text.includes(String(down)), 'the upstream address stays inside')
    const detail = String(gw.decisions.at(-1)?.detail)
    assert.match(detail, new RegExp(`^the upstream could not be reached \\(upstream http://127\\.0\\.0\\.1:${down}: .*ECONNREFUSED`))
  })

  test('an untrusted token issuer: the decision line names the issuer and the trust list, the client does not', async () => {
    const agentKey = newKey('Ed25519')
    const token = await agent.agentToken(agentKey.publicJwk, { sub: 'delegate-1' })
    const headers = signRequest({ method: 'GET', authority: AUTHORITY, target: '/data/3' }, agentKey, { signatureKey: `jwt;jwt="${token}"` })
    const res = await send(gw, '/data/3', { headers })
    assert.equal(res.status, 401)
    assert.equal(res.json().detail, 'the token issuer is not trusted')
    const detail = String(gw.decisions.at(-1)?.detail)
    assert.equal(detail, `the token issuer is not trusted (iss ${agent.origin} is not in trust.agent_providers)`)
    assert.ok(!detail.includes(token.slice(0, 20)), 'never the token')
    assert.equal(agent.hitsOn('/.well-known/aauth-agent.json'), 0, 'an untrusted issuer is never fetched')
  })

  test('a 405 carries Allow with the methods the route takes', async () => {
    const res = await send(gw, '/data/4', { method: 'PUT' })
    assert.equal(res.status, 405)
    assert.equal(res.headers.get('allow'), 'GET, POST')
  })

  test('a local 401 to a request without a body keeps the connection for the next request', async () => {
    const answers = await exchange(gw, ['GET /data/5 HTTP/1.1\r\nHost: a\r\n\r\n', 'GET /data/6 HTTP/1.1\r\nHost: a\r\n\r\n'])
    assert.equal(answers.length, 2, 'both answered on one connection')
    assert.match(answers[0] ?? '', /^HTTP\/1\.1 401 /)
    assert.doesNotMatch(answers[0] ?? '', /\r\nconnection: close\r\n/i)
    assert.match(answers[1] ?? '', /^HTTP\/1\.1 401 /)
  })

  test('a local 401 to a request whose body was not read closes the connection', async () => {
    const answers = await exchange(gw, ['POST /data/7 HTTP/1.1\r\nHost: a\r\nContent-Length: 100\r\n\r\npartial'])
    assert.equal(answers.length, 1)
    assert.match(answers[0] ?? '', /^HTTP\/1\.1 401 [^]*\r\nconnection: close\r\n/i)
  })
})

/**
 * Writes each request on one connection once the previous answer arrived; resolves the answers
 * (head and body) when the gateway closes the connection or every request was answered.
 */
function exchange(gw: { url: string }, requests: string[]): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const socket = connect(Number(new URL(gw.url).port), '127.0.0.1')
    const answers: string[] = []
    let buffer = ''
    const next = (): void => {
      const request = requests[answers.length]
      if (request === undefined) {
        socket.end()
        return resolve(answers)
      }
      socket.write(request)
    }
    socket.on('connect', next)
    socket.on('data', (chunk: Buffer) => {
      buffer += chunk.toString()
      for (;;) {
        const end = buffer.indexOf('\r\n\r\n')
        if (end === -1) return
        const length = Number(/\r\ncontent-length: (\d+)/i.exec(buffer.slice(0, end))?.[1] ?? 0)
        if (buffer.length < end + 4 + length) return
        answers.push(buffer.slice(0, end + 4 + length))
        buffer = buffer.slice(end + 4 + length)
        next()
      }
    })
    socket.on('close', () => resolve(answers))
    socket.on('error', reject)
  })
}

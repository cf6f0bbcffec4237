import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import { startAgentServer, type AgentServer } from '../../src/devkit/agent-server.js'
import { startBackend, type Backend } from '../../src/devkit/backend.js'
import { newKey } from '../../src/devkit/keys.js'
import { cli } from '../helpers/cli.js'
import { AUTHORITY, startTestGateway, type TestGateway } from '../helpers/gateway.js'
import { closedPort } from '../helpers/ports.js'

describe('aauth-gateway request: curl for AAuth, against a real gateway', () => {
  let agent: AgentServer
  let backend: Backend
  let gw: TestGateway
  const tmp = mkdtempSync(join(tmpdir(), 'aauth-request-'))

  before(async () => {
    agent = await startAgentServer()
    backend = await startBackend()
    gw = await startTestGateway({
      resource: { issuer: 'https://api.test', authority: AUTHORITY },
      trust: { agent_providers: [agent.origin], insecure_issuers: [agent.origin] },
      routes: [
        { name: 'upload', match: { path_prefix: '/upload' }, upstream: backend.url, access: 'pseudonymous', components: ['content-digest'] },
        { name: 'hello', match: { path_prefix: '/hello' }, upstream: backend.url, access: 'pseudonymous' },
        { name: 'data', match: { path_prefix: '/data' }, upstream: backend.url, access: 'identified' },
      ],
    })
  })
  after(async () => {
    await gw.close()
    await backend.close()
    await agent.close()
    rmSync(tmp, { recursive: true, force: true })
  })

  test('--hwk (the default): a fresh key signs, the answer is printed like curl -i, exit 0', async () => {
    const run = await cli(['request', '--authority', AUTHORITY, `${gw.url}/hello?x=1`])
    assert.equal(run.code, 0, run.stderr)
    const [head, body] = run.stdout.split('\n\n', 2) as [string, string]
    assert.match(head, /^HTTP\/1\.1 200 OK\n/)
    assert.match(head, /^content-type: application\/json$/m)
    assert.equal((JSON.parse(body) as { url: string }).url, '/hello?x=1')
    const saw = backend.last().headers
    assert.equal(saw['x-aauth-level'], 'pseudonymous')
    assert.equal(saw['x-aauth-scheme'], 'hwk')
    assert.equal(saw.host, new URL(gw.url).host, 'Host stays the URL\'s whatever --authority signs')
  })

  test('--agent-server: gets an agent token for its key and signs with jwt; the backend sees the agent', async () => {
    const run = await cli(['request', '--agent-server', agent.url, '--delegate', 'laptop-1', '--authority', AUTHORITY, `${gw.url}/data/1`])
    assert.equal(run.code, 0, run.stderr)
    assert.match(run.stdout, /^HTTP\/1\.1 200 OK\n/)
    const echoed = JSON.parse(run.stdout.split('\n\n', 2)[1] ?? '') as { headers: Record<string, string> }
    assert.equal(echoed.headers['x-aauth-level'], 'identified')
    assert.equal(echoed.headers['x-aauth-agent'], agent.origin)
    assert.equal(echoed.headers['x-aauth-agent-delegate'], 'laptop-1')
    assert.equal(echoed.headers['x-aauth-token-type'], 'aa-agent+jwt')
    assert.equal(agent.hitsOn('/delegate/token'), 1)
  })

  test('-d DATA: the bytes as given, content-type application/json for JSON, content-digest covered', async () => {
    const data = '{"n": 1,  "spaces": "kept" }'
    const run = await cli(['request', '-d', data, '--authority', AUTHORITY, `${gw.url}/upload`])
    assert.equal(run.code, 0, run.stderr)
    const got = backend.last()
    assert.equal(got.method, 'POST')
    assert.equal(got.body.toString('utf8'), data)
    assert.equal(got.headers['content-type'], 'application/json')
    assert.equal(got.headers['content-digest'], `sha-256=:${createHash('sha256').update(data).digest('base64')}:`)
    assert.match(String(got.headers['signature-input']), /"content-type" "content-digest"/)
  })

  test('-d @file with -H content-type and -X PUT: the file\'s bytes, the given type', async () => {
    const file = join(tmp, 'body.txt')
    writeFileSync(file, 'not json\nline two\n')
    const run = await cli(['request', '-X', 'PUT', '-H', 'Content-Type: text/plain', '-H', 'X-Trace: t1', '-d', `@${file}`, '--authority', AUTHORITY, `${gw.url}/upload/doc`])
    assert.equal(run.code, 0, run.stderr)
    const got = backend.last()
    assert.equal(got.method, 'PUT')
    assert.equal(got.body.toString('utf8'), 'not json\nline two\n')
    assert.equal(got.headers['content-type'], 'text/plain')
    assert.equal(got.headers['x-trace'], 't1')
  })

  test('a 401 is explained on stderr: the requirement and what to do next; exit 1', async () => {
    const run = await cli(['request', '--authority', AUTHORITY, `${gw.url}/data/1`])
    assert.equal(run.code, 1)
    assert.match(run.stdout, /^HTTP\/1\.1 401 Unauthorized\n/)
    assert.match(run.stdout, /^aauth-requirement: requirement=agent-token$/m)
    assert.match(run.stderr, /AAuth-Requirement agent-token: the route wants an identified agent/)
    assert.match(run.stderr, /next: add --agent-server URL/)
  })

  test('a signature over another @authority: the Signature-Error is named and explained', async () => {
    const run = await cli(['request', '--authority', 'elsewhere.test', `${gw.url}/hello`])
    assert.equal(run.code, 1)
    assert.match(run.stdout, /^signature-error: error=invalid_signature$/m)
    assert.match(run.stderr, /Signature-Error invalid_signature: .*--authority is not what the gateway expects/)
  })

  test('--token FILE with --key FILE: the token is presented, signed with its cnf key', async () => {
    const key = newKey('ES256')
    const keyFile = join(tmp, 'agent.jwk.json')
    const tokenFile = join(tmp, 'token.jwt')
    writeFileSync(keyFile, JSON.stringify(key.privateJwk))
    writeFileSync(tokenFile, (await agent.issue('from-file', key.publicJwk)) + '\n')
    const run = await cli(['request', '--token', tokenFile, '--key', keyFile, '--authority', AUTHORITY, `${gw.url}/data/2`])
    assert.equal(run.code, 0, run.stderr)
    assert.equal(backend.last().headers['x-aauth-agent-delegate'], 'from-file')

    const other = await cli(['request', '--token', tokenFile, `${gw.url}/data/2`])
    assert.equal(other.code, 2)
    assert.match(other.stderr, /--token needs --key FILE/)
  })

  test('usage and network errors exit 2 with a message', async () => {
    const port = await closedPort()
    const down = await cli(['request', `http://127.0.0.1:${port}/x`])
    assert.equal(down.code, 2)
    assert.match(down.stderr, /did not answer \(ECONNREFUSED\)/)
    const noAgent = await cli(['request', '--agent-server', `http://127.0.0.1:${port}`, `${gw.url}/data/1`])
    assert.equal(noAgent.code, 2)
    assert.match(noAgent.stderr, /no agent token: .* did not answer/)
    const both = await cli(['request', '--hwk', '--agent-server', agent.url, `${gw.url}/data/1`])
    assert.equal(both.code, 2)
    const badUrl = await cli(['request', 'not-a-url'])
    assert.equal(badUrl.code, 2)
    assert.match(badUrl.stderr, /'not-a-url' is not a URL/)
    const badHeader = await cli(['request', '-H', 'no colon', `${gw.url}/hello`])
    assert.equal(badHeader.code, 2)
  })
})

import assert from 'node:assert/strict'
import { after, before, beforeEach, describe, test } from 'node:test'
import { signRequest } from '../../../src/devkit/sign.js'
import { startBackend, type Backend } from '../../../src/devkit/backend.js'
import { AUTHORITY, startTestGateway, type TestGateway } from '../../helpers/gateway.js'
import { requestCount } from '../../helpers/metrics.js'
import { fieldLines, rawMessage, rawRequest, type RawResponse } from '../../helpers/raw-http.js'
import { newKey } from '../../../src/devkit/keys.js'
import { waitFor } from '../../helpers/wait.js'

/**
 * Request targets a backend could read differently from the gateway (docs/security.md):
 * every one is a 400 before routing, signature or policy, and the backend sees nothing. All are
 * sent over raw sockets: fetch would resolve the dot segments before they left the client.
 */

const POLICY = `name: no-secrets
rules:
  - deny: 'request.path.startsWith("/files/secret")'
`

/** Spellings that reach `{to}` from under `{from}` in some backend, or split differently. */
function ambiguous(from: string, to: string): string[] {
  const leaf = to.slice(1)
  return [
    `${from}/../${leaf}/x`,
    `${from}/%2e%2e/${leaf}`,
    `${from}/%2E%2E/${leaf}`,
    `${from}/.%2E/${leaf}`,
    `${from}/%2e./${leaf}`,
    `${from}/..;/${leaf}`,
    `${from}/..;jsessionid=x/${leaf}`,
    `${from}/..%3B/${leaf}`,
    `${from}/./${leaf}`,
    `/./${from.slice(1)}/x`,
    `${from}\\..\\${leaf}`,
    `${from}/..\\${leaf}`,
    `${from}/..%5C${leaf}`,
    `${from}/..%2F${leaf}`,
    `${from}%2F..%2F${leaf}`,
    `${from}//x`,
    `/${from}/x`,
    `${from}/%2e/x`,
    `${from}/x%00.json`,
  ]
}

function assertRefused(res: RawResponse, target: string): void {
  assert.equal(res.status, 400, `${target}: ${res.text}`)
  assert.equal(res.header('content-type'), 'application/problem+json', target)
  assert.equal(res.json().error, 'invalid_request', target)
}

describe('ambiguous request targets are refused with 400 and never forwarded', () => {
  let backend: Backend
  let gw: TestGateway
  const key = newKey('Ed25519')

  before(async () => {
    backend = await startBackend()
    gw = await startTestGateway(
      {
        resource: { issuer: 'https://api.test', authority: AUTHORITY },
        signatures: { schemes: ['hwk'] },
        policies: 'policies',
        routes: [
          // The shipped config's shape: an open /public beside a signed /data.
          { name: 'public', match: { path_prefix: '/public' }, upstream: backend.url, access: 'open' },
          { name: 'hello', match: { path_prefix: '/hello' }, upstream: backend.url, access: 'pseudonymous' },
          { name: 'data', match: { path_prefix: '/data' }, upstream: backend.url, access: 'identified' },
          { name: 'files', match: { path_prefix: '/files' }, upstream: backend.url, access: 'open', policy: 'no-secrets' },
        ],
      },
      { 'policies/no-secrets.yaml': POLICY },
    )
  })
  after(async () => {
    await gw.close()
    await backend.close()
  })
  beforeEach(() => backend.reset())

  const sign = (target: string) => fieldLines(signRequest({ method: 'GET', authority: AUTHORITY, target }, key, { signatureKey: key.hwk }))

  test('forwards ordinary targets on the same routes (so the refusals below are the rule, not the route)', async () => {
    assert.equal((await rawRequest(gw.url, rawMessage('GET', '/public/x', ['Connection: close']))).status, 200)
    assert.equal((await rawRequest(gw.url, rawMessage('GET', '/hello/x', [...sign('/hello/x'), 'Connection: close']))).status, 200)
    assert.equal((await rawRequest(gw.url, rawMessage('GET', '/files/ok', ['Connection: close']))).status, 200)
    assert.equal((await rawRequest(gw.url, rawMessage('GET', '/files/secret/x', ['Connection: close']))).status, 403)
    assert.deepEqual(backend.arrived.map((a) => a.url), ['/public/x', '/hello/x', '/files/ok'])
  })

  test('on an open route: dot segments, escaped dots, ";", backslashes, %2F, %5C, %00 and "//" are 400', async () => {
    for (const target of ambiguous('/public', '/data')) {
      assertRefused(await rawRequest(gw.url, rawMessage('GET', target, ['Connection: close'])), target)
    }
    assert.deepEqual(backend.arrived, [], 'the backend received nothing')
  })

  test('on a pseudonymous route: 400 even with a valid signature over the raw target', async () => {
    for (const target of ambiguous('/hello', '/public')) {
      assertRefused(await rawRequest(gw.url, rawMessage('GET', target, [...sign(target), 'Connection: close'])), target)
    }
    assert.deepEqual(backend.arrived, [])
  })

  test('on an identified route: 400, not the 401 challenge, and nothing forwarded', async () => {
    for (const target of ambiguous('/data', '/public')) {
      const res = await rawRequest(gw.url, rawMessage('GET', target, ['Connection: close']))
      assertRefused(res, target)
      assert.equal(res.header('aauth-requirement'), undefined, target)
    }
    assert.deepEqual(backend.arrived, [])
  })

  test('on a policy-protected route: the policy cannot be stepped around by spelling the path differently', async () => {
    for (const target of [...ambiguous('/files/public', '/files/secret'), '/files/%73ecret/x', '/files/secre%74/x', '/files/public/..%2Fsecret/x']) {
      assertRefused(await rawRequest(gw.url, rawMessage('GET', target, ['Connection: close'])), target)
    }
    assert.deepEqual(backend.arrived, [])
  })

  test('shipped-config scenario: /public/.. and escaped spellings of /data never reach the backend unsigned', async () => {
    for (const target of ['/public/../data/x', '/public/%2e%2e/data', '/public/.%2E/data', '/public/..;/data', '/./data', '/public\\..\\data', '/public/..%2Fdata', '//data', '/d%61ta/x', '/%64ata']) {
      assertRefused(await rawRequest(gw.url, rawMessage('GET', target, ['Connection: close'])), target)
    }
    assert.deepEqual(backend.arrived, [])
  })

  test('each refusal is one decision line (400, bad_target) and one requests_total sample', async () => {
    const before = gw.decisions.length
    const counted = await requestCount(gw, { reason: 'bad_target' })
    const targets = ['/public/../data', '/hello/%2e%2e/x', '/data//x']
    for (const target of targets) await rawRequest(gw.url, rawMessage('GET', target, ['Connection: close']))
    await waitFor(() => gw.decisions.length >= before + targets.length, 'decision lines')
    const lines = gw.decisions.slice(before)
    assert.equal(lines.length, targets.length)
    for (const line of lines) {
      assert.equal(line.status, 400)
      assert.equal(line.reason, 'bad_target')
      assert.equal(line.decision, 'error')
    }
    assert.deepEqual(lines.map((l) => l.path), targets, 'each line names the target it refused, as received')
    assert.equal(await requestCount(gw, { reason: 'bad_target' }), counted + targets.length)
  })
})

describe('absolute-form targets and methods a reverse proxy does not serve', () => {
  let backend: Backend
  let gw: TestGateway
  const key = newKey('Ed25519')

  before(async () => {
    backend = await startBackend()
    gw = await startTestGateway({
      resource: { issuer: 'https://api.test', authority: AUTHORITY },
      signatures: { schemes: ['hwk'] },
      routes: [
        { name: 'hello', match: { path_prefix: '/hello' }, upstream: backend.url, access: 'pseudonymous' },
        { name: 'all', match: { path_prefix: '/' }, upstream: backend.url, access: 'open' },
      ],
    })
  })
  after(async () => {
    await gw.close()
    await backend.close()
  })
  beforeEach(() => backend.reset())

  test('forwards an absolute-form target in origin-form, exactly, with its authority as Host', async () => {
    const res = await rawRequest(gw.url, rawMessage('GET', 'http://api.test/public/x?a=%2F&b', ['Connection: close'], '', 'other.test'))
    assert.equal(res.status, 200, res.text)
    assert.equal(backend.last().url, '/public/x?a=%2F&b')
    assert.equal(backend.last().headers.host, 'api.test')
    const bare = await rawRequest(gw.url, rawMessage('GET', 'http://api.test', ['Connection: close']))
    assert.equal(bare.status, 200)
    assert.equal(backend.last().url, '/')
  })

  test('verifies an absolute-form request signed over the resource authority and its path', async () => {
    const target = '/hello/abs?q=1'
    const headers = fieldLines(signRequest({ method: 'GET', authority: AUTHORITY, target, headers: {} }, key, { signatureKey: key.hwk, components: ['@method', '@authority', '@path', '@query', 'signature-key'] }))
    const res = await rawRequest(gw.url, rawMessage('GET', `http://${AUTHORITY}${target}`, [...headers, 'Connection: close']))
    assert.equal(res.status, 200, res.text)
    assert.equal(backend.last().url, target)
    assert.equal(backend.last().headers['x-aauth-level'], 'pseudonymous')
    // The same signature does not cover another path sent in absolute-form.
    const other = await rawRequest(gw.url, rawMessage('GET', `http://${AUTHORITY}/hello/other?q=1`, [...headers, 'Connection: close']))
    assert.equal(other.status, 401)
    assert.equal(other.header('signature-error'), 'error=invalid_signature')
  })

  test('answers 400, never 5xx, to absolute-form targets that do not parse, and forwards nothing', async () => {
    for (const target of ['http://[::1/x', 'http://u@api.test/x', 'http:///x', 'http://api.test\\x/y', 'ftp://api.test/x', 'api.test:443', 'http:/x', 'http://api.test/a/../b']) {
      const res = await rawRequest(gw.url, rawMessage('GET', target, ['Connection: close']))
      assert.equal(res.status, 400, `${target}: ${res.text}`)
      assert.equal(res.json().error, 'invalid_request', target)
    }
    assert.deepEqual(backend.arrived, [])
  })

  test('answers CONNECT and TRACE with 405 and OPTIONS * with 400, each with a decision line and a sample', async () => {
    const cases: [string, number, string][] = [
      ['CONNECT api.test:443 HTTP/1.1\r\nHost: api.test:443\r\n\r\n', 405, 'method_not_allowed'],
      ['TRACE /x HTTP/1.1\r\nHost: api.test\r\nConnection: close\r\n\r\n', 405, 'method_not_allowed'],
      ['OPTIONS * HTTP/1.1\r\nHost: api.test\r\nConnection: close\r\n\r\n', 400, 'bad_target'],
    ]
    for (const [bytes, status, reason] of cases) {
      const before = gw.decisions.length
      const counted = await requestCount(gw, { reason })
      const res = await rawRequest(gw.url, bytes)
      assert.equal(res.status, status, bytes)
      assert.equal(res.header('content-type'), 'application/problem+json')
      if (status === 405) assert.equal(res.header('allow'), 'GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS', 'a 405 names what is allowed (RFC 9110 §15.5.6)')
      await waitFor(() => gw.decisions.length > before, `a decision line for ${bytes.split(' ')[0]}`)
      assert.equal(gw.decisions.length, before + 1)
      assert.equal(gw.decisions.at(-1)?.status, status)
      assert.equal(gw.decisions.at(-1)?.reason, reason)
      assert.equal(await requestCount(gw, { reason }), counted + 1)
    }
    assert.deepEqual(backend.arrived, [])
  })
})

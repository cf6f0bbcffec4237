import assert from 'node:assert/strict'
import { createServer, type RequestListener, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { after, test } from 'node:test'
import { isPublicAddress } from '../../src/keys/egress.js'
import { type FetchFailure, FetchError, guardedFetch } from '../../src/keys/fetch.js'
import type { FetchPolicy } from '../../src/keys/types.js'

const servers: Server[] = []
after(() => Promise.all(servers.map((s) => new Promise((r) => { s.close(r); s.closeAllConnections() }))))

async function serve(handler: RequestListener): Promise<{ origin: string; hits: () => number }> {
  let hits = 0
  const server = createServer((req, res) => { hits++; handler(req, res) })
  servers.push(server)
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()))
  return { origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, hits: () => hits }
}

function policy(origins: string[], overrides: Partial<FetchPolicy> = {}): FetchPolicy {
  return { timeoutMs: 1000, maxBytes: 1024, insecureOrigins: new Set(origins), ...overrides }
}

async function fails(promise: Promise<unknown>, failure: FetchFailure): Promise<void> {
  await assert.rejects(promise, (e: unknown) => e instanceof FetchError && e.failure === failure)
}

test('fetches a JSON object from an insecure_issuers origin, with its caching headers', async () => {
  const s = await serve((_, res) => res.writeHead(200, { 'cache-control': 'max-age=30', etag: '"v1"' }).end('{"keys":[]}'))
  const got = await guardedFetch(`${s.origin}/jwks.json`, { trusted: true, policy: policy([s.origin]) })
  assert.deepEqual(got.body, { keys: [] })
  assert.equal(got.headers.cacheControl, 'max-age=30')
  assert.equal(got.headers.etag, '"v1"')
})

test('never fetches an untrusted origin', async () => {
  const s = await serve((_, res) => res.end('{}'))
  await fails(guardedFetch(`${s.origin}/x`, { trusted: false, policy: policy([s.origin]) }), 'untrusted')
  assert.equal(s.hits(), 0)
})

test('refuses plain http unless the origin is listed exactly', async () => {
  const s = await serve((_, res) => res.end('{}'))
  await fails(guardedFetch(`${s.origin}/x`, { trusted: true, policy: policy([]) }), 'scheme')
  await fails(guardedFetch('ftp://agent.test/x', { trusted: true, policy: policy([]) }), 'scheme')
  assert.equal(s.hits(), 0)
})

test('refuses loopback, private and link-local addresses, literal or resolved, before connecting', async () => {
  for (const url of ['https://127.0.0.1:1/x', 'https://[::1]:1/x', 'https://10.0.0.1:1/x', 'https://169.254.169.254/latest', 'https://localhost:1/x']) {
    await fails(guardedFetch(url, { trusted: true, policy: policy([]) }), 'address')
  }
  assert.equal(isPublicAddress('93.184.216.34'), true)
  assert.equal(isPublicAddress('2606:2800:220:1::1'), true)
  for (const a of ['127.0.0.1', '192.168.1.1', '172.16.5.4', '100.64.0.1', '::1', 'fe80::1', 'fd00::1', '::ffff:127.0.0.1', 'not-an-ip']) {
    assert.equal(isPublicAddress(a), false, a)
  }
})

test('gives up on a slow server at the timeout instead of hanging', async () => {
  const s = await serve((_, res) => { res.writeHead(200); res.write('{"keys":'); /* never ends */ })
  const started = Date.now()
  await fails(guardedFetch(`${s.origin}/jwks.json`, { trusted: true, policy: policy([s.origin], { timeoutMs: 300 }) }), 'timeout')
  assert.ok(Date.now() - started < 2000)
  const silent = await serve(() => { /* never answers */ })
  await fails(guardedFetch(`${silent.origin}/jwks.json`, { trusted: true, policy: policy([silent.origin], { timeoutMs: 300 }) }), 'timeout')
})

test('stops reading a document over the size limit, declared or streamed', async () => {
  const declared = await serve((_, res) => res.writeHead(200, { 'content-length': '5000' }).end('x'.repeat(5000)))
  await fails(guardedFetch(`${declared.origin}/x`, { trusted: true, policy: policy([declared.origin]) }), 'too_large')
  const streamed = await serve((_, res) => {
    res.writeHead(200)
    const chunk = 'x'.repeat(512)
    const timer = setInterval(() => { if (!res.write(chunk)) clearInterval(timer) }, 1)
    res.on('close', () => clearInterval(timer))
  })
  await fails(guardedFetch(`${streamed.origin}/x`, { trusted: true, policy: policy([streamed.origin]) }), 'too_large')
})

test('refuses a redirect to another host, follows one within the origin', async () => {
  const s = await serve((req, res) => {
    if (req.url === '/away') return void res.writeHead(302, { location: req.url.replace('/away', `http://localhost:${req.socket.localPort}/jwks.json`) }).end()
    if (req.url === '/moved') return void res.writeHead(301, { location: '/jwks.json' }).end()
    if (req.url === '/loop') return void res.writeHead(302, { location: '/loop' }).end()
    res.end('{"keys":[]}')
  })
  const p = policy([s.origin])
  await fails(guardedFetch(`${s.origin}/away`, { trusted: true, policy: p }), 'redirect')
  assert.deepEqual((await guardedFetch(`${s.origin}/moved`, { trusted: true, policy: p })).body, { keys: [] })
  await fails(guardedFetch(`${s.origin}/loop`, { trusted: true, policy: p }), 'redirect')
})

test('reports error statuses, non-JSON, non-objects and refused connections', async () => {
  const s = await serve((req, res) => {
    if (req.url === '/500') return void res.writeHead(500).end()
    if (req.url === '/html') return void res.end('<html>')
    res.end('[1,2]')
  })
  const p = policy([s.origin])
  await fails(guardedFetch(`${s.origin}/500`, { trusted: true, policy: p }), 'status')
  await fails(guardedFetch(`${s.origin}/html`, { trusted: true, policy: p }), 'json')
  await fails(guardedFetch(`${s.origin}/array`, { trusted: true, policy: p }), 'json')
  const dead = 'http://127.0.0.1:9'
  await fails(guardedFetch(`${dead}/x`, { trusted: true, policy: policy([dead]) }), 'network')
})

test('answers 304 as not modified when a validator was sent', async () => {
  const s = await serve((req, res) => {
    if (req.headers['if-none-match'] === '"v1"') return void res.writeHead(304, { 'cache-control': 'max-age=9' }).end()
    res.end('{}')
  })
  const got = await guardedFetch(`${s.origin}/x`, { trusted: true, policy: policy([s.origin]), etag: '"v1"' })
  assert.equal(got.status, 304)
  assert.equal(got.headers.cacheControl, 'max-age=9')
})

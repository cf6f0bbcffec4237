import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import { signRequest } from '../../src/devkit/sign.js'
import { startBackend, type Backend } from '../../src/devkit/backend.js'
import { AUTHORITY, send, startTestGateway, type TestGateway } from '../helpers/gateway.js'
import { newKey } from '../../src/devkit/keys.js'

const WINDOW = 60
const MAX_ENTRIES = 5

describe('a full replay store (signatures.replay.max_entries)', () => {
  let backend: Backend
  let gw: TestGateway
  const key = newKey('Ed25519')

  before(async () => {
    backend = await startBackend()
    gw = await startTestGateway({
      resource: { issuer: 'https://api.test', authority: AUTHORITY },
      signatures: { window: WINDOW, schemes: ['hwk'], replay: { max_entries: MAX_ENTRIES } },
      routes: [
        { name: 'public', match: { path_prefix: '/public' }, upstream: backend.url, access: 'open' },
        { name: 'data', match: { path_prefix: '/data' }, upstream: backend.url, access: 'pseudonymous' },
      ],
    })
  })
  after(async () => {
    await gw.close()
    await backend.close()
  })

  const signed = (target: string): { headers: Record<string, string> } => ({
    headers: signRequest({ method: 'GET', authority: AUTHORITY, target }, key, { signatureKey: key.hwk }),
  })
  const metric = async (name: string): Promise<number> => {
    const text = await (await fetch(gw.adminUrl + '/metrics')).text()
    const line = text.split('\n').find((l) => l.startsWith(`${name} `))
    assert.ok(line !== undefined, `${name} is exported`)
    return Number(line.slice(name.length + 1))
  }

  test('sheds the next signed request with 503 and Retry-After, and still refuses a replay of an early one', async () => {
    assert.equal(await metric('aauth_gateway_replay_store_full_total'), 0)
    const first = signed('/data/1')
    assert.equal((await send(gw, '/data/1', first)).status, 200)
    for (let i = 2; i <= MAX_ENTRIES; i++) {
      const res = await send(gw, `/data/${i}`, signed(`/data/${i}`))
      assert.equal(res.status, 200, `request ${i} fits: ${res.text}`)
    }
    const forwarded = backend.received.length

    const shed = await send(gw, '/data/6', signed('/data/6'))
    assert.equal(shed.status, 503, shed.text)
    const retryAfter = Number(shed.headers.get('retry-after'))
    assert.ok(Number.isInteger(retryAfter) && retryAfter >= 1 && retryAfter <= 2 * WINDOW, `Retry-After ${shed.headers.get('retry-after')}`)
    assert.equal(shed.headers.get('content-type'), 'application/problem+json')
    assert.equal(shed.headers.get('signature-error'), null, 'the signature was fine')
    assert.equal(shed.json().status, 503)
    assert.equal(shed.json().error, 'temporarily_unavailable')
    assert.equal(await metric('aauth_gateway_replay_store_full_total'), 1)
    assert.equal(gw.decisions.at(-1)?.reason, 'store_full')

    const replay = await send(gw, '/data/1', first)
    assert.equal(replay.status, 401, 'the first request is not forgotten to make room')
    assert.equal(replay.headers.get('signature-error'), 'error=invalid_signature')
    assert.equal(await metric('aauth_gateway_replay_rejected_total'), 1)
    assert.equal(await metric('aauth_gateway_replay_store_full_total'), 1, 'a replay is not counted as shed')
    assert.equal(backend.received.length, forwarded, 'neither reached the backend')
  })

  test('keeps serving unsigned requests on open routes', async () => {
    const res = await send(gw, '/public/x')
    assert.equal(res.status, 200)
  })
})

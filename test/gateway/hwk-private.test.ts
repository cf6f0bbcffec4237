import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import { signRequest } from '../../src/devkit/sign.js'
import { startBackend, type Backend } from '../../src/devkit/backend.js'
import { AUTHORITY, send, startTestGateway, type Answer, type TestGateway } from '../helpers/gateway.js'
import { newKey, type DevKey } from '../../src/devkit/keys.js'

describe('hwk carrying private key members', () => {
  let backend: Backend
  let gw: TestGateway
  const ed = newKey('Ed25519')
  const ec = newKey('ES256')

  before(async () => {
    backend = await startBackend()
    gw = await startTestGateway({
      resource: { issuer: 'https://api.test', authority: AUTHORITY },
      signatures: { schemes: ['hwk'] },
      routes: [{ name: 'data', match: { path_prefix: '/data' }, upstream: backend.url, access: 'pseudonymous' }],
    })
  })
  after(async () => {
    await gw.close()
    await backend.close()
  })

  let n = 0
  const call = (key: DevKey, signatureKey: string): Promise<Answer> => {
    const target = `/data/${++n}`
    return send(gw, target, { headers: signRequest({ method: 'GET', authority: AUTHORITY, target }, key, { signatureKey }) })
  }

  const assertInvalidKey = (res: Answer, what: string): void => {
    assert.equal(res.status, 401, `${what}: ${res.text}`)
    assert.equal(res.headers.get('signature-error'), 'error=invalid_key', what)
    assert.equal(res.json().detail, 'the key carries private members', what)
  }

  test('the same key without private members is accepted (the baseline)', async () => {
    assert.equal((await call(ed, ed.hwk)).status, 200)
    assert.equal((await call(ec, ec.hwk)).status, 200)
  })

  test('refuses an hwk with its private d, on Ed25519 and ES256, with invalid_key', async () => {
    const forwarded = backend.received.length
    assertInvalidKey(await call(ed, `${ed.hwk};d="${ed.privateJwk.d}"`), 'Ed25519 d')
    assertInvalidKey(await call(ec, `${ec.hwk};d="${ec.privateJwk.d}"`), 'ES256 d')
    assert.equal(backend.received.length, forwarded, 'nothing reached the backend')
  })

  test('refuses the RSA and symmetric private members too, whatever their value type', async () => {
    for (const member of ['p', 'q', 'dp', 'dq', 'qi', 'k']) {
      assertInvalidKey(await call(ed, `${ed.hwk};${member}="AQAB"`), member)
    }
    assertInvalidKey(await call(ed, `${ed.hwk};d`), 'a bare d (boolean true)')
    assertInvalidKey(await call(ed, `${ed.hwk};d=1`), 'an integer d')
  })

  test('refuses private members in the January-2026 form as well', async () => {
    const legacy = `(scheme=hwk kty="OKP" crv="Ed25519" x="${ed.publicJwk.x}" d="${ed.privateJwk.d}")`
    assertInvalidKey(await call(ed, legacy), 'legacy d')
  })
})

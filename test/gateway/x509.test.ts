import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import type { SigningKey } from '../../src/devkit/sign.js'
import { signRequest } from '../../src/devkit/sign.js'
import { assertSignatureRefusal } from '../helpers/refusal.js'
import { AUTHORITY, send, startTestWorld, type Answer, type TestWorld } from '../helpers/gateway.js'
import { startPemServer, x509Fixture, x509Member, x509SigningKey, type PemServer } from '../helpers/scheme-tokens.js'

describe('x509 end to end (Signature-Key -09 §3.10)', () => {
  let world: TestWorld
  let pem: PemServer
  const ed = x509SigningKey('ed25519')
  const p256 = x509SigningKey('p256')

  before(async () => {
    pem = await startPemServer()
    world = await startTestWorld(({ backend }) => ({
      resource: { issuer: 'https://api.test', authority: AUTHORITY },
      trust: { insecure_issuers: [pem.origin], x509_anchors: ['anchors/root.pem'] },
      signatures: { schemes: ['x509', 'hwk'] },
      routes: [{ name: 'data', match: { path_prefix: '/data' }, upstream: backend.url, access: 'identified' }],
    }), { files: { 'anchors/root.pem': x509Fixture('root.pem') } })
  })
  after(async () => {
    await world.close()
    await pem.close()
  })

  let n = 0
  const call = (signer: SigningKey, chain: string, x5tOf = chain): Promise<Answer> => {
    const target = `/data/${++n}`
    const member = x509Member(`${pem.origin}/${chain}`, x509Fixture(x5tOf))
    return send(world.gw, target, { headers: signRequest({ method: 'GET', authority: AUTHORITY, target }, signer, { signatureKey: member }) })
  }
  const refused = (res: Promise<Answer>, code: string): Promise<void> => assertSignatureRefusal(world.backend, res, code)

  test('a request signed by the leaf key of a chain to the anchor: identified as its subject', async () => {
    for (const [signer, chain, cn] of [[ed, 'ed25519-chain.pem', 'ed25519'], [p256, 'p256-chain.pem', 'p256']] as const) {
      const res = await call(signer, chain)
      assert.equal(res.status, 200, res.text)
      const got = world.backend.received.at(-1)!.headers
      assert.equal(got['x-aauth-level'], 'identified')
      assert.equal(got['x-aauth-scheme'], 'x509')
      assert.equal(got['x-aauth-agent'], `CN=${cn}.agent.test, O=Test Agents`)
    }
  })

  test('a chain is fetched once for many requests (cached by x5t and x5u), and still checked on each', async () => {
    const fetches = (): number => pem.served.filter((name) => name === 'p256-chain.pem').length
    const before = fetches()
    const answers = await Promise.all([call(p256, 'p256-chain.pem'), call(p256, 'p256-chain.pem'), call(p256, 'p256-chain.pem')])
    assert.deepEqual(answers.map((a) => a.status), [200, 200, 200])
    assert.ok(fetches() - before <= 1, `fetched ${fetches() - before} times`)
    // A cached chain vouches only for its own key: a request another key signed does not verify.
    await refused(call(ed, 'p256-chain.pem'), 'invalid_signature')
  })

  test('refusals: untrusted chain, x5t of another certificate, missing intermediate, serverAuth only, key mismatch, malformed', async () => {
    await refused(call(x509SigningKey('untrusted'), 'untrusted-chain.pem'), 'invalid_key')
    await refused(call(ed, 'ed25519-chain.pem', 'p256.pem'), 'invalid_key')
    await refused(call(ed, 'ed25519.pem'), 'invalid_key')
    await refused(call(x509SigningKey('server-only'), 'server-only-chain.pem'), 'invalid_key')
    await refused(call(p256, 'ed25519-chain.pem'), 'invalid_signature')
    const target = `/data/${++n}`
    const malformed = `x509;x5u="${pem.origin}/ed25519-chain.pem";x5t=:AAAA:`
    await refused(send(world.gw, target, { headers: signRequest({ method: 'GET', authority: AUTHORITY, target }, ed, { signatureKey: malformed }) }), 'invalid_key')
  })
})

import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import { parseRequestTarget } from '../../../src/request/target.js'
import { startBackend, type Arrival, type Backend } from '../../../src/devkit/backend.js'
import { startTestGateway, type TestGateway } from '../../helpers/gateway.js'
import { prng } from '../../helpers/prng.js'
import { rawMessage, rawRequest } from '../../helpers/raw-http.js'
import { randomTarget } from '../../helpers/targets.js'
import { waitFor } from '../../helpers/wait.js'

/**
 * The invariant as a property: for any request target, either the gateway answers 400 and the
 * backend receives nothing, or the backend receives exactly that target, byte for byte (behind
 * the route's upstream path when it has one). Targets come from a seeded generator, so a
 * failure names a case that reproduces.
 */

const SEED = 0x5eed_0421
const CASES = 500
const PARALLEL = 8

describe('request targets reach the backend byte for byte or not at all (property, raw sockets)', () => {
  let backend: Backend
  let gw: TestGateway

  before(async () => {
    backend = await startBackend()
    gw = await startTestGateway({
      routes: [
        // Requests for Host based.test go to the upstream under /base; everything else to /.
        { name: 'based', match: { host: 'based.test', path_prefix: '/' }, upstream: `${backend.url}/base`, access: 'open' },
        { name: 'all', match: { path_prefix: '/' }, upstream: backend.url, access: 'open' },
      ],
    })
  })
  after(async () => {
    await gw.close()
    await backend.close()
  })

  test(`${CASES} generated targets: 400 and nothing forwarded, or forwarded exactly`, async () => {
    const random = prng(SEED)
    const cases = Array.from({ length: CASES }, (_, i) => ({ i, target: randomTarget(random), based: random() < 0.5 }))
    const byCase = (i: number): Arrival[] => backend.arrived.filter((a) => a.headers['x-case'] === String(i))
    let forwarded = 0
    let refused = 0
    const run = async (c: (typeof cases)[number]): Promise<void> => {
      const label = `case ${c.i} (seed ${SEED}): ${JSON.stringify(c.target)} via ${c.based ? 'based.test' : 'api.test'}`
      const res = await rawRequest(gw.url, rawMessage('GET', c.target, [`X-Case: ${c.i}`, 'Connection: close'], '', c.based ? 'based.test' : 'api.test'))
      const parsed = parseRequestTarget(c.target)
      if (res.status === 400) {
        refused++
        assert.equal(typeof parsed, 'string', `${label}: refused although the target rule accepts it`)
        return
      }
      assert.equal(res.status, 200, `${label}: ${res.status} ${res.text}`)
      assert.notEqual(typeof parsed, 'string', `${label}: forwarded although the target rule refuses it`)
      forwarded++
      const seen = byCase(c.i)
      assert.equal(seen.length, 1, `${label}: the backend saw ${seen.length} requests`)
      const t = parsed as Exclude<typeof parsed, string>
      // An absolute-form target's authority routes it (api.test and friends: never based.test).
      const prefix = c.based && t.authority === undefined ? '/base' : ''
      assert.equal(seen[0]?.url, prefix + t.path + t.query, label)
      if (t.authority === undefined) assert.equal(seen[0]?.url, prefix + c.target, `${label}: not byte for byte`)
    }
    for (let i = 0; i < cases.length; i += PARALLEL) await Promise.all(cases.slice(i, i + PARALLEL).map(run))
    // Every refused case: nothing with its number ever reached the backend (checked last, so a
    // late arrival from any case would still be seen).
    await waitFor(() => gw.decisions.length >= CASES, 'a decision line per case')
    for (const c of cases) {
      if (typeof parseRequestTarget(c.target) === 'string') assert.deepEqual(byCase(c.i), [], `case ${c.i}: ${JSON.stringify(c.target)} reached the backend`)
    }
    assert.equal(backend.arrived.length, forwarded)
    assert.ok(forwarded > 50 && refused > 50, `the generator exercises both answers (forwarded ${forwarded}, refused ${refused})`)
  })
})

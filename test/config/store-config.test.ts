import assert from 'node:assert/strict'
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, test } from 'node:test'
import { buildSnapshot } from '../../src/config/compile.js'
import { parseConfigText } from '../../src/config/load.js'
import { restartRequiredKeys } from '../../src/config/start-only.js'
import { ConfigError } from '../../src/errors.js'

const ROUTE = `routes:
  - name: data
    upstream: "http://127.0.0.1:3000"
`

function problemsOf(fn: () => unknown): string[] {
  try {
    fn()
  } catch (err) {
    if (err instanceof ConfigError) return err.problems.map((p) => `${p.line} ${p.key}: ${p.message}`)
    throw err
  }
  assert.fail('expected a ConfigError')
}

function configFile(text: string, files: Record<string, string> = {}): string {
  const dir = mkdtempSync(join(tmpdir(), 'aauth-store-cfg-'))
  for (const [name, body] of Object.entries(files)) {
    mkdirSync(join(dir, name, '..'), { recursive: true })
    writeFileSync(join(dir, name), body)
  }
  writeFileSync(join(dir, 'g.yaml'), text)
  return join(dir, 'g.yaml')
}

describe('the store section (docs/state-store.md)', () => {
  test('defaults to the memory store with a 0.25 s timeout, failing closed', async () => {
    const snapshot = await buildSnapshot(configFile(ROUTE))
    assert.deepEqual(snapshot.store, { type: 'memory', url: undefined, keyPrefix: 'aauth-gateway:', timeoutMs: 250, failOpen: false })
  })

  test('takes a redis URL with a password from the environment', async () => {
    const text = `store:\n  type: redis\n  url: "redis://:\${REDIS_PASSWORD}@127.0.0.1:6380/2"\n  key_prefix: "gw-a:"\n  timeout: 0.1\n  fail_open: true\n${ROUTE}`
    const snapshot = await buildSnapshot(configFile(text), { REDIS_PASSWORD: 's3cret' })
    assert.deepEqual(snapshot.store, { type: 'redis', url: 'redis://:s3cret@127.0.0.1:6380/2', keyPrefix: 'gw-a:', timeoutMs: 100, failOpen: true })
    const tls = parseConfigText(`store: { type: redis, url: "rediss://user:pw@redis.internal:6380" }\n${ROUTE}`, 'g.yaml')
    assert.equal(tls.config.store.url, 'rediss://user:pw@redis.internal:6380')
  })

  test('refuses the old signatures.replay.store and url, pointing to store', () => {
    const text = `signatures:\n  replay:\n    store: redis\n    url: "redis://127.0.0.1:6379"\n    max_entries: 10\n${ROUTE}`
    const problems = problemsOf(() => parseConfigText(text, 'g.yaml'))
    assert.equal(problems.length, 2, problems.join('\n'))
    assert.match(problems[0] ?? '', /^3 signatures\.replay\.store: moved: the top-level `store` section \(store\.type, store\.url\)/)
    assert.match(problems[1] ?? '', /^4 signatures\.replay\.url: moved: .*remove signatures\.replay\.url/)
    const memory = problemsOf(() => parseConfigText(`signatures:\n  replay: { store: memory }\n${ROUTE}`, 'g.yaml'))
    assert.match(memory[0] ?? '', /^2 signatures\.replay\.store: moved/)
  })

  test('refuses a bad url, a redis store without one, a url on the memory store, and bad values', () => {
    for (const url of ['http://127.0.0.1:6379', 'redis://', '127.0.0.1:6379', 'redis://h:6379/db', 'redis://h:6379/0?family=6', 'redis://h:99999']) {
      const problems = problemsOf(() => parseConfigText(`store:\n  type: redis\n  url: "${url}"\n${ROUTE}`, 'g.yaml'))
      assert.equal(problems.length, 1, `${url}: ${problems.join('\n')}`)
      assert.match(problems[0] ?? '', /^3 store\.url: expected redis:\/\//, url)
    }
    assert.deepEqual(problemsOf(() => parseConfigText(`store:\n  type: redis\n${ROUTE}`, 'g.yaml')), ['2 store.url: store.type redis needs store.url'])
    assert.deepEqual(problemsOf(() => parseConfigText(`store:\n  url: "redis://h"\n${ROUTE}`, 'g.yaml')), ['2 store.url: store.url is only for store.type redis'])
    const problems = problemsOf(() => parseConfigText(`store:\n  type: valkey\n  timeout: 0\n  fail_open: "yes"\n  prefix: x\n${ROUTE}`, 'g.yaml'))
    assert.deepEqual(problems.map((p) => p.split(':')[0]), ['2 store.type', '3 store.timeout', '4 store.fail_open', '5 store.prefix'])
  })

  test('every store key applies at restart only', async () => {
    const started = await buildSnapshot(configFile(ROUTE))
    const next = await buildSnapshot(configFile(`store:\n  type: redis\n  url: "redis://127.0.0.1:1"\n  key_prefix: x\n  timeout: 1\n  fail_open: true\n${ROUTE}`))
    assert.deepEqual(restartRequiredKeys(started, next), ['store.type', 'store.url', 'store.key_prefix', 'store.timeout', 'store.fail_open'])
  })
})

describe('a route rate_limit', () => {
  test('compiles its key expression and builds its RateLimit-Policy once', async () => {
    const text = `${ROUTE}    rate_limit: { requests: 100, per: 60, key: 'aauth.agent + "/" + request.method' }\n`
    const route = (await buildSnapshot(configFile(text))).routes.match('h', '/x', 'GET')
    assert.ok(route.kind === 'upstream')
    assert.equal(route?.rateLimit?.policyHeader, '"default";q=100;w=60')
    assert.deepEqual([...(route?.rateLimit?.key.reads ?? [])].sort(), ['aauth', 'request'])
    const byDefault = (await buildSnapshot(configFile(`${ROUTE}    rate_limit: { requests: 5, per: 1 }\n`))).routes.match('h', '/x', 'GET')
    assert.ok(byDefault.kind === 'upstream')
    assert.equal(byDefault?.rateLimit?.key.source, 'aauth.agent')
  })

  test('reports a key that does not compile or is not a string, and bad counts, at their lines', async () => {
    for (const [key, message] of [
      ['aauth.agnet', /type error/],
      ['aauth.agent ==', /syntax error/],
      ['size(aauth.scope)', /must be a string expression, but its type is int/],
    ] as const) {
      await assert.rejects(buildSnapshot(configFile(`${ROUTE}    rate_limit:\n      requests: 1\n      per: 1\n      key: '${key}'\n`)), (err: unknown) => {
        assert.ok(err instanceof ConfigError)
        assert.equal(err.problems.length, 1)
        assert.equal(`${err.problems[0]?.line} ${err.problems[0]?.key}`, '7 routes.0.rate_limit.key')
        assert.match(err.problems[0]?.message ?? '', message)
        return true
      })
    }
    const problems = problemsOf(() => parseConfigText(`${ROUTE}    rate_limit:\n      requests: 0\n      per: 0.5\n      burst: 3\n`, 'g.yaml'))
    assert.deepEqual(problems.map((p) => p.split(':')[0]), ['5 routes.0.rate_limit.requests', '6 routes.0.rate_limit.per', '7 routes.0.rate_limit.burst'])
  })
})

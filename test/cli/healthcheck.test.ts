import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { resolve } from 'node:path'
import { after, before, describe, test } from 'node:test'
import { closedPort } from '../helpers/ports.js'
import { startTestGateway, type TestGateway } from '../helpers/gateway.js'

// Tests run from the repository root (npm test); the Docker image runs the same file.
const HEALTHCHECK = resolve('bin/healthcheck.js')

function check(env: NodeJS.ProcessEnv): Promise<number | null> {
  const child = spawn(process.execPath, [HEALTHCHECK], { stdio: 'ignore', env: { PATH: process.env.PATH, ...env } })
  return new Promise((done) => child.once('exit', (code) => done(code)))
}

describe('the Docker HEALTHCHECK script follows AAUTH_ADMIN', () => {
  let gw: TestGateway
  before(async () => {
    gw = await startTestGateway({})
  })
  after(async () => {
    await gw.close()
  })

  test('exits 0 when /readyz at AAUTH_ADMIN answers 200, reaching a wildcard bind through loopback', async () => {
    const port = new URL(gw.adminUrl).port
    assert.equal(await check({ AAUTH_ADMIN: `127.0.0.1:${port}` }), 0)
    assert.equal(await check({ AAUTH_ADMIN: `0.0.0.0:${port}` }), 0)
  })

  test('exits 1 when nothing answers there', async () => {
    assert.equal(await check({ AAUTH_ADMIN: `127.0.0.1:${await closedPort()}` }), 1)
  })
})

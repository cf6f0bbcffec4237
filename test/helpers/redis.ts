import { spawn, type ChildProcess } from 'node:child_process'
import { Redis } from 'ioredis'
import { closedPort } from './ports.js'

/**
 * A real `redis-server` on a free loopback port, without persistence (no RDB, no AOF), for the
 * tests of the Redis state store. `stop()` and `start()` again on the same port stand for an
 * outage and a recovery; `pause()` (CLIENT PAUSE) for a Redis that is up but too slow.
 */
export interface TestRedis {
  readonly port: number
  readonly url: string
  start(): Promise<void>
  stop(): Promise<void>
  /** Sends one command over a fresh connection and returns its reply. */
  command(...args: string[]): Promise<unknown>
}

export async function startRedis(options: { password?: string } = {}): Promise<TestRedis> {
  const port = await closedPort()
  const auth = options.password === undefined ? [] : ['--requirepass', options.password]
  let child: ChildProcess | undefined
  const redis: TestRedis = {
    port,
    url: options.password === undefined ? `redis://127.0.0.1:${port}/0` : `redis://:${encodeURIComponent(options.password)}@127.0.0.1:${port}/0`,
    async start() {
      child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--loglevel', 'warning', ...auth], {
        stdio: ['ignore', 'ignore', 'inherit'],
      })
      const deadline = Date.now() + 10_000
      for (;;) {
        if (child.exitCode !== null) throw new Error(`redis-server exited with ${child.exitCode}`)
        try {
          if ((await redis.command('PING')) === 'PONG') return
        } catch {
          // not listening yet
        }
        if (Date.now() > deadline) throw new Error('redis-server did not answer PING within 10 s')
        await new Promise((r) => setTimeout(r, 20))
      }
    },
    async stop() {
      const c = child
      child = undefined
      if (c === undefined || c.exitCode !== null) return
      const exited = new Promise<void>((r) => c.once('exit', () => r()))
      c.kill('SIGKILL')
      await exited
    },
    command: (...args) => rawCommand(port, options.password, args),
  }
  await redis.start()
  return redis
}

async function rawCommand(port: number, password: string | undefined, [name, ...args]: string[]): Promise<unknown> {
  const client = new Redis({ port, host: '127.0.0.1', password, lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null, commandTimeout: 2000 })
  client.on('error', () => undefined)
  try {
    await client.connect()
    return await client.call(name ?? 'PING', ...args)
  } finally {
    client.disconnect()
  }
}

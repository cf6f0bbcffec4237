import { Redis } from 'ioredis'
import { redisOptions } from '../src/store/redis-client.js'
import { startRedis } from '../test/helpers/redis.js'

/**
 * `node dist/bench/redis.js`: what one replay `SET NX EX` costs the gateway's Redis client
 * (src/store/redis-client.ts) on a redis-server this starts, with `batch` commands in flight at
 * once (as that many concurrent requests would), against the same client without ioredis's
 * `commandTimeout` (a timer per command) and without auto-pipelining (docs/state-store.md
 * "Cost per request"). Prints wall and client CPU µs per command.
 */
const N = 60_000
async function main(): Promise<void> {
  const redis = await startRedis()
  const variants: Record<string, () => Redis> = {
    gateway: () => new Redis(redis.url, redisOptions(250)),
    'no commandTimeout': () => new Redis(redis.url, { ...redisOptions(250), commandTimeout: undefined }),
    'no autopipeline': () => new Redis(redis.url, { ...redisOptions(250), enableAutoPipelining: false }),
  }
  const clients = Object.fromEntries(Object.entries(variants).map(([k, f]) => [k, f()]))
  for (const c of Object.values(clients)) await c.connect()
  let serial = 0
  for (let round = 0; round < 3; round++) {
    for (const batch of [4, 16]) {
      for (const [name, c] of Object.entries(clients)) {
        const cpu = process.cpuUsage(); const t0 = performance.now()
        for (let i = 0; i < N / batch; i++) {
          const ps: Promise<unknown>[] = []
          for (let j = 0; j < batch; j++) ps.push(c.set(`bench:${serial++}`, '1', 'EX', 60, 'NX'))
          await Promise.all(ps)
        }
        const u = process.cpuUsage(cpu)
        console.log(`${name.padEnd(16)} batch ${String(batch).padStart(3)}: wall ${((performance.now() - t0) * 1000 / N).toFixed(1)} µs/op, client cpu ${((u.user + u.system) / N).toFixed(1)} µs/op`)
      }
    }
  }
  for (const c of Object.values(clients)) c.disconnect()
  await redis.stop()
}
void main()

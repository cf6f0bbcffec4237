import { startAgentServer } from './agent.js'
import { AUTHORITY, writeGatewayConfig } from './config.js'
import { drive, type BenchRequest, type RequestSource } from './load.js'
import { launch } from './processes.js'
import type { RowDef } from './rows.js'
import { hwkCredential, presigned, type Credential } from './sources.js'

/**
 * `npm run bench:memory`: the gateway's memory stays flat however many agents it meets. It
 * serves 100 000 requests from distinct `hwk` keys, then 100 000 from distinct agent tokens
 * (each a new delegate key), and prints its RSS (after a GC) at the start and after each phase.
 * Every cache that distinct agents fill is bounded (docs/benchmark.md), so the growth is the
 * bounded caches plus the replay store, which must hold every request of the last 2 x window.
 */
const DISTINCT = Number(process.argv[2] ?? 100_000)
/** The replay store must hold both phases inside its 120 s horizon: no request is shed. */
const REPLAY_ENTRIES = 2 * DISTINCT + 10_000
/** The stated bound on growth over the start (MB): caches and the replay store at their bounds. */
const BOUND_MB = 250

const ROWS: RowDef[] = [
  { name: 'hwk', via: 'gateway', prefix: '/hwk', auth: 'hwk', access: 'pseudonymous' },
  { name: 'agent', via: 'gateway', prefix: '/agent', auth: 'agent-token', access: 'identified' },
]

/** One request each from `count` credentials made by `make`, signed up front. */
async function distinctRequests(count: number, prefix: string, make: () => Credential | Promise<Credential>): Promise<RequestSource> {
  const requests: BenchRequest[] = []
  for (let i = 0; i < count; i++) {
    const one = presigned(await make(), AUTHORITY, `${prefix}/${i}`, 1).next()
    if (one) requests.push(one)
  }
  let used = 0
  return { next: () => requests[used++], remaining: () => requests.length - used }
}

async function main(): Promise<number> {
  const backend = await launch('backend', '', 'child')
  const agent = await startAgentServer()
  const gateway = await launch('gateway', writeGatewayConfig(ROWS, backend.url, agent.origin, { replayMaxEntries: REPLAY_ENTRIES }), 'child', ['--expose-gc'])
  try {
    const mb = async (): Promise<number> => ((await gateway.rssBytes?.()) ?? 0) / 1048576
    const start = await mb()
    console.log(`gateway RSS at start: ${start.toFixed(0)} MB`)
    let worst = 0
    for (const [phase, prefix, make] of [
      ['distinct hwk keys', '/hwk', hwkCredential],
      ['distinct agent tokens', '/agent', () => agent.credential('delegate')],
    ] as const) {
      const t0 = performance.now()
      const source = await distinctRequests(DISTINCT, prefix, make)
      console.error(`  ${phase}: signed ${DISTINCT} in ${Math.round(performance.now() - t0)} ms`)
      const m = await drive(gateway.url, source, 32, 600)
      const now = await mb()
      worst = Math.max(worst, now - start)
      console.log(`after ${m.responses} requests from ${phase}: RSS ${now.toFixed(0)} MB (+${(now - start).toFixed(0)} MB), ${m.failures} non-2xx, ${Math.round(m.rps)} req/s`)
      if (m.failures > 0) return 1
    }
    const ok = worst <= BOUND_MB
    console.log(`${ok ? 'PASS' : 'FAIL'}: growth ${worst.toFixed(0)} MB against a bound of ${BOUND_MB} MB`)
    return ok ? 0 : 1
  } finally {
    await gateway.close()
    await agent.close()
    await backend.close()
  }
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(`FAIL: ${err instanceof Error ? err.message : String(err)}`)
    process.exit(1)
  },
)

import { availableParallelism, cpus, loadavg } from 'node:os'
import { startAgentServer, type AgentServer } from './agent.js'
import { ed25519VerifyMicros } from './crypto.js'
import { AUTHORITY, writeGatewayConfig } from './config.js'
import { drive, probe, type RequestSource } from './load.js'
import { launch, launchServe, type Placement } from './processes.js'
import { failed, renderComparisons, renderTable, statusList, MAX_FAILURE_RATIO, type RowResult } from './report.js'
import { ROWS, workersOf, type RowDef, type Target } from './rows.js'
import { startRedis } from '../test/helpers/redis.js'
import { summarizeProfile } from './profile.js'
import { spawnSync } from 'node:child_process'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { DECISION_LOG_NOTE, type Service } from './servers.js'
import { fixedRequest, hwkCredential, presigned, type Credential } from './sources.js'

/**
 * `npm run bench`: backend direct, a plain http-proxy-3 proxy and the gateway, each driven by
 * autocannon under the same conditions, one row at a time. `--in-process` runs the servers in
 * this process instead of one child process each; `--profile` writes a CPU profile of the gateway
 * and prints where its time went, by `src/` folder; other arguments pick rows by name.
 */
const LOAD = { connections: 32, seconds: 4, warmupSeconds: 1 } as const
/** Latency without queueing: one connection, one request at a time (the gateway's own cost). */
const SOLO = { connections: 1, seconds: 1 } as const
const args = process.argv.slice(2)
const placement: Placement = args.includes('--in-process') ? 'in-process' : 'child'
/** `--profile`: the gateway child runs under `--cpu-prof`; its profile is summarised at the end. */
const profileDir = args.includes('--profile') ? mkdtempSync(join(tmpdir(), 'aauth-bench-prof-')) : undefined
/** Other arguments select rows by a part of their name (all rows when none is given). */
const filters = args.filter((a) => !a.startsWith('--'))
const rows = ROWS.filter((r) => filters.length === 0 || filters.some((f) => r.name.includes(f)))
/** Bounds on the pre-signed requests per row (5000 req/s is assumed before anything was measured). */
const PRESIGN_MIN = 10_000
const PRESIGN_MAX = 200_000

async function main(): Promise<number> {
  printHeader()
  const opened: { close(): Promise<void> }[] = []
  try {
    const backend = await launch('backend', '', placement)
    opened.push(backend)
    const proxy = await launch('proxy', backend.url, placement)
    opened.push(proxy)
    const forward = await launch('forward', backend.url, placement)
    opened.push(forward)
    const forwardVerify = await launch('forward-verify', backend.url, placement)
    opened.push(forwardVerify)
    const agent = ROWS.some((r) => r.auth === 'agent-token') ? await startAgentServer() : undefined
    if (agent) opened.push(agent)
    const profiling = profileDir === undefined ? [] : ['--cpu-prof', `--cpu-prof-dir=${profileDir}`]
    const gateway = await launch('gateway', writeGatewayConfig(ROWS, backend.url, agent?.origin), placement, profiling)
    opened.push(gateway)
    const services: Record<Target, Service> = { backend, proxy, forward, 'forward-verify': forwardVerify, gateway }
    // Gateways with several workers run as `aauth-gateway serve` (a primary and its workers).
    const clustered = new Map<number, Service & { adminUrl: string }>()
    for (const n of new Set(rows.filter((r) => r.via === 'gateway').map(workersOf))) {
      if (n === 1) continue
      const served = await launchServe(writeGatewayConfig(ROWS, backend.url, agent?.origin, { workers: n }))
      opened.push(served)
      clustered.set(n, served)
    }
    // A Redis-backed gateway (one instance) on a bench redis-server, when a row asks for one.
    let redisGateway: Service | undefined
    if (rows.some((r) => r.store === 'redis')) {
      const available = spawnSync('redis-server', ['--version']).status === 0
      const redis = await (available ? startRedis() : Promise.reject(new Error('redis-server not found'))).catch((err: unknown) => {
        console.error(`  store: redis rows skipped: ${err instanceof Error ? err.message : String(err)} (apt-get install redis-server)`)
        return undefined
      })
      if (redis) {
        opened.push({ close: () => redis.stop() })
        redisGateway = await launch('gateway', writeGatewayConfig(ROWS, backend.url, agent?.origin, { redisUrl: redis.url }), placement)
        opened.push(redisGateway)
      }
    }

    const results: RowResult[] = []
    for (const row of rows) {
      if (row.store === 'redis' && redisGateway === undefined) continue
      const source = await requestsFor(row, agent, results)
      const cluster = row.via === 'gateway' ? clustered.get(workersOf(row)) : undefined
      const service = cluster ?? (row.store === 'redis' ? redisGateway : undefined) ?? services[row.via]
      await checkOne(row, service.url, source)
      if (row.policy !== undefined) await checkPolicyDenies(row, service.url, agent)
      const result: RowResult = { row, ...(await measureRow(service, source)) }
      results.push(result)
      console.error(`  ${row.name}: ${Math.round(result.m.rps)} req/s, ${result.m.failures} failures (${statusList(result.m.statuses)})`)
      if (cluster) console.error(`  ${row.name}: ${await storeBatching(cluster.adminUrl)}`)
    }
    console.log(`\n${renderTable(results)}\n`)
    const comparisons = renderComparisons(results)
    if (comparisons !== '') console.log(`${comparisons}\n`)
    if (profileDir !== undefined) {
      await gateway.close()
      const served = results.filter((r) => r.row.via === 'gateway').reduce((n, r) => n + r.m.responses + r.solo.responses, 0)
      console.log(summarizeProfile(profileDir, served))
    }
    const bad = results.filter(failed)
    for (const { row } of bad) console.error(`FAIL: ${row.name}: more than ${MAX_FAILURE_RATIO * 100}% of responses were not 2xx`)
    return bad.length === 0 ? 0 : 1
  } finally {
    for (const s of opened.reverse()) await s.close()
  }
}

/** Warm-up, then the timed run, reading the server process's CPU time around the latter. */
async function measureRow(service: Service, source: RequestSource): Promise<Omit<RowResult, 'row'>> {
  await drive(service.url, source, LOAD.connections, LOAD.warmupSeconds)
  const before = await service.cpuMicros?.()
  const m = await drive(service.url, source, LOAD.connections, LOAD.seconds)
  const after = await service.cpuMicros?.()
  const solo = await drive(service.url, source, SOLO.connections, SOLO.seconds)
  return { m, solo, cpuPerRequest: before === undefined || after === undefined ? undefined : (after - before) / m.responses }
}

/**
 * The row's request source. A pre-signed supply is sized from the fastest row so far other than
 * the backend's (no gateway row should outrun the plain proxy); a row that still runs out ends
 * early and says so.
 */
async function requestsFor(row: RowDef, agent: AgentServer | undefined, done: readonly RowResult[]): Promise<RequestSource> {
  if (row.auth === 'unsigned') return fixedRequest(`${row.prefix}/item`)
  const credential = row.auth === 'hwk' ? hwkCredential() : await agentCredential(agent)
  const hint = Math.max(0, ...done.filter((r) => r.row.via !== 'backend').map((r) => r.m.rps)) || 5000
  const wanted = hint * (LOAD.seconds + LOAD.warmupSeconds) * 1.1 + LOAD.connections * 8 + 5000 * SOLO.seconds
  const count = Math.round(Math.min(PRESIGN_MAX, Math.max(PRESIGN_MIN, wanted)))
  const t0 = performance.now()
  const source = presigned(credential, AUTHORITY, row.prefix, count)
  console.error(`  ${row.name}: signed ${count} requests in ${Math.round(performance.now() - t0)} ms`)
  return source
}

function agentCredential(agent: AgentServer | undefined): Promise<Credential> {
  if (!agent) throw new Error('agent-token rows need the agent server')
  return agent.credential('bench-delegate-1')
}

/** Before timing a row, one of its requests must come back 200 (this also warms key caches). */
async function checkOne(row: RowDef, url: string, source: RequestSource): Promise<void> {
  const req = source.next()
  if (req === undefined) throw new Error(`${row.name}: no request to check`)
  const answer = await probe(url, req)
  if (answer.status !== 200) {
    throw new Error(`${row.name}: the check request got ${answer.status}, not 200: ${answer.body.slice(0, 300)}`)
  }
}

/** A policy row must really be enforcing: a revoked delegate's signed request gets 403. */
async function checkPolicyDenies(row: RowDef, url: string, agent: AgentServer | undefined): Promise<void> {
  if (!agent) throw new Error('policy rows need the agent server')
  const revoked = presigned(await agent.credential('revoked-bench'), AUTHORITY, row.prefix, 1).next()
  const answer = revoked && (await probe(url, revoked))
  if (answer?.status !== 403) throw new Error(`${row.name}: a revoked delegate got ${answer?.status}, not 403: the policy is not in force`)
}

/** How many store operations the primary read from the workers' store channels per read (docs/scaling.md). */
async function storeBatching(adminUrl: string): Promise<string> {
  const text = await (await fetch(`${adminUrl}/metrics`)).text()
  const value = (name: string): number => Number(/^(\S+) (\S+)$/m.exec(text.split('\n').find((l) => l.startsWith(`${name} `)) ?? '')?.[2] ?? NaN)
  const ops = value('aauth_gateway_store_ipc_operations_total')
  const messages = value('aauth_gateway_store_ipc_messages_total')
  return `store channel: ${ops} operations in ${messages} reads (${(ops / messages).toFixed(1)} per read, all rows of this gateway)`
}

function printHeader(): void {
  const cpu = cpus()[0]?.model ?? 'unknown CPU'
  const load = loadavg().map((l) => l.toFixed(2)).join(' ')
  console.log(`aauth-gateway bench: node ${process.version}, ${availableParallelism()} cores (${cpu}), ${process.platform}/${process.arch}, load average ${load}`)
  console.log(
    `load: autocannon, ${LOAD.connections} connections, pipelining 1, ${LOAD.warmupSeconds} s warm-up + ${LOAD.seconds} s per row, ` +
      `every request built through setupRequest in every row`,
  )
  console.log(
    `servers: backend, plain proxy and gateway ${placement === 'child' ? 'each in its own child process' : 'all in the load generator process'}, on 127.0.0.1; ` +
      `load generator shares the same cores`,
  )
  console.log(`gateway: decision log ${DECISION_LOG_NOTE}; metrics on; memory replay store; signed rows use unique pre-signed requests`)
  console.log(`latency: ms over 2xx responses, from exact per-response samples; non-2xx counts non-2xx answers plus socket errors`)
  console.log(`p50 solo: p50 with ${SOLO.connections} connection for ${SOLO.seconds} s after the loaded run (no queueing); "added" compares it with the plain proxy's`)
  console.log(`cpu µs/req: CPU time of the driven server's own process per response (the proxy and gateway rows exclude the backend)`)
  console.log(`workers: rows with workers > 1 drive \`aauth-gateway serve\` (a cluster primary and its workers; memory store in the primary, over a socket pair per worker); their cpu counts every process of it`)
  console.log(`crypto: one node:crypto Ed25519 verification takes ${ed25519VerifyMicros().toFixed(0)} µs here (idle, one thread): every signed row pays it per request`)
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(`FAIL: ${err instanceof Error ? err.message : String(err)}`)
    process.exit(1)
  },
)

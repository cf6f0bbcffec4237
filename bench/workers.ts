import { execFileSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { startAgentServer } from './agent.js'
import { AUTHORITY, writeGatewayConfig } from './config.js'
import { drive } from './load.js'
import { launch, launchServe } from './processes.js'
import { ROWS } from './rows.js'
import { presigned } from './sources.js'

/**
 * `node dist/bench/workers.js [connections] [seconds] [rounds]` (default 32 4 3): the identified
 * route on `aauth-gateway serve` with `workers: 1` and with `workers: 2`, run alternately
 * `rounds` times so both see the same machine, printing req/s and the CPU µs per request of
 * each gateway process (the primary first) and of this load generator (docs/scaling.md
 * "How many"). Linux only (`/proc`).
 */
const connections = Number(process.argv[2] ?? 32)
const seconds = Number(process.argv[3] ?? 4)
const rounds = Number(process.argv[4] ?? 3)
const TICKS = Number(execFileSync('getconf', ['CLK_TCK']).toString().trim()) || 100

function cpuMicros(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    return ((Number(fields[11]) + Number(fields[12])) / TICKS) * 1e6
  } catch {
    return 0
  }
}

function processTree(pid: number): number[] {
  try {
    return [pid, ...readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number)]
  } catch {
    return [pid]
  }
}

async function main(): Promise<void> {
  const backend = await launch('backend', '', 'child')
  const agent = await startAgentServer()
  const gateways = [1, 2].map(async (workers) => ({ workers, served: await launchServe(writeGatewayConfig(ROWS, backend.url, agent.origin, { workers })) }))
  const served = await Promise.all(gateways)
  const credential = await agent.credential('bench-delegate-1')
  console.log(`identified route, ${connections} connections, ${seconds} s per run after 1 s warm-up, ${rounds} rounds`)
  try {
    for (let round = 0; round < rounds; round++) {
      for (const { workers, served: s } of served) {
        const source = presigned(credential, AUTHORITY, '/agent', 5000 * (seconds + 1) + 20 * connections)
        await drive(s.url, source, connections, 1)
        const pids = processTree(s.pid)
        const before = pids.map(cpuMicros)
        const own = process.cpuUsage()
        const m = await drive(s.url, source, connections, seconds)
        const mine = process.cpuUsage(own)
        const per = pids.map((p, i) => Math.round((cpuMicros(p) - (before[i] ?? 0)) / m.responses))
        const total = per.reduce((a, b) => a + b, 0)
        console.log(
          `workers: ${workers}  ${String(Math.round(m.rps)).padStart(5)} req/s  p50 ${m.p50.toFixed(1)} ms  non-2xx ${m.failures}  ` +
            `cpu µs/req ${total} [${per.join(' + ')}]  load generator ${Math.round((mine.user + mine.system) / m.responses)}`,
        )
      }
    }
  } finally {
    for (const { served: s } of served) await s.close()
    await agent.close()
    await backend.close()
  }
}

void main().then(() => process.exit(0))

import type { Measurement } from './load.js'
import type { RowDef } from './rows.js'

export interface RowResult {
  row: RowDef
  m: Measurement
  /** The same row at one connection: latency without queueing. */
  solo: Measurement
  /** CPU µs the driven server's process spent per response; absent when it shares this process. */
  cpuPerRequest: number | undefined
}

/** Most non-2xx answers (and connection errors) a row may have: above it the row FAILs. */
export const MAX_FAILURE_RATIO = 0.01

export function failed(r: RowResult): boolean {
  return r.m.failures > r.m.responses * MAX_FAILURE_RATIO
}

/**
 * The results table. Gateway rows are also compared with the plain-proxy row (their req/s as a
 * ratio of its req/s, and the p50 they add to it) and with their per-core limit: the minimal
 * `node:http` forward for an unsigned row, the same plus one verification for a signed one.
 */
export function renderTable(results: readonly RowResult[]): string {
  const proxy = results.find((r) => r.row.via === 'proxy')
  const base = proxy?.m
  const limitFor = (row: RowDef): RowResult | undefined =>
    results.find((r) => r.row.via === (row.auth === 'unsigned' ? 'forward' : 'forward-verify'))
  const header = ['row', 'req/s', 'p50 ms', 'p99 ms', 'p50 solo ms', 'cpu µs/req', 'non-2xx', 'req/s vs proxy', 'vs limit', 'added p50 solo ms', 'notes']
  const lines = results.map(({ row, m, solo, cpuPerRequest }) => {
    const limit = limitFor(row)
    const vsProxy =
      row.via === 'gateway' && base && proxy
        ? [`${(m.rps / base.rps).toFixed(2)}x`, limit ? `${(m.rps / limit.m.rps).toFixed(2)}x` : '', `+${(solo.p50 - proxy.solo.p50).toFixed(2)}`]
        : ['', '', '']
    const cpu = cpuPerRequest === undefined ? '-' : Math.round(cpuPerRequest).toString()
    const notes = [failed({ row, m, solo, cpuPerRequest }) ? `FAIL ${statusList(m.statuses)}` : '', m.cutShort ? `cut short at ${m.seconds.toFixed(1)} s` : '']
    return [row.name, Math.round(m.rps).toString(), m.p50.toFixed(2), m.p99.toFixed(2), solo.p50.toFixed(2), cpu, `${m.failures}/${m.responses}`, ...vsProxy, notes.filter(Boolean).join('; ')]
  })
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => (l[i] ?? '').length)))
  const format = (cells: readonly string[]): string =>
    cells.map((c, i) => (i === 0 || i === cells.length - 1 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0))).join('  ').trimEnd()
  return [format(header), widths.map((w) => '-'.repeat(w)).join('  ').trimEnd(), ...lines.map(format)].join('\n')
}

export function statusList(statuses: ReadonlyMap<number, number>): string {
  return [...statuses].map(([status, count]) => `${status}x${count}`).join(' ')
}

/**
 * The scale-out comparisons of docs/scaling.md and docs/state-store.md, one line each, for the
 * rows of one run (figures from different runs are not comparable on a shared machine):
 * `workers: 2` against the one-process row of the same route, and `store: redis` against the
 * memory-store row. A comparison whose rows did not run is left out.
 */
export function renderComparisons(results: readonly RowResult[]): string {
  const find = (test: (r: RowResult) => boolean): RowResult | undefined => results.find(test)
  const base = find(({ row }) => row.via === 'gateway' && row.prefix === '/agent' && row.workers === undefined && row.store === undefined)
  if (base === undefined) return ''
  const line = (what: string, other: RowResult | undefined, target: string): string | undefined => {
    if (other === undefined) return undefined
    const cpu = other.cpuPerRequest !== undefined && base.cpuPerRequest !== undefined ? `, cpu µs/req ${Math.round(other.cpuPerRequest)} vs ${Math.round(base.cpuPerRequest)}` : ''
    return `${what}: ${Math.round(other.m.rps)} vs ${Math.round(base.m.rps)} req/s = ${(other.m.rps / base.m.rps).toFixed(2)}x (target ${target})${cpu}`
  }
  return [
    line('identified, workers: 2 vs workers: 1', find(({ row }) => row.workers === 2), '> 1.00x'),
    line('identified, store: redis vs memory', find(({ row }) => row.store === 'redis'), '>= 0.85x'),
  ]
    .filter((l) => l !== undefined)
    .join('\n')
}

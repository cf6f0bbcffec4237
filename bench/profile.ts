import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'

/** The parts of a V8 `.cpuprofile` (`node --cpu-prof`) this summary reads. */
interface CpuProfile {
  nodes: { id: number; callFrame: { functionName: string; url: string; lineNumber: number }; hitCount?: number }[]
  samples: number[]
  startTime: number
  endTime: number
}

/**
 * Where a function lives, for grouping: a folder of this project (`src/proxy`), a package
 * (`undici`), Node's own code, or V8's pseudo-frames (GC, idle, program).
 */
function groupOf(url: string, name: string): string {
  const src = /\/(src|bench)\/([^/]+)\//.exec(url) ?? /\/(src|bench)\/([^/]+\.[jt]s)$/.exec(url)
  if (src && !url.includes('node_modules')) return `${src[1]}/${src[2]}`
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url)
  if (pkg) return pkg[1] as string
  if (url.startsWith('node:')) return 'node (internal)'
  return `(${name || 'native'})`
}

/**
 * Prints the top self-time functions of the newest profile in `dir`, and self time per group,
 * both as µs per request when `requests` is known (the responses the gateway served while it
 * was profiled).
 */
export function summarizeProfile(dir: string, requests: number, top = 20): string {
  const file = readdirSync(dir).filter((f) => f.endsWith('.cpuprofile')).sort().at(-1)
  if (file === undefined) return `no .cpuprofile in ${dir}`
  const profile = JSON.parse(readFileSync(join(dir, file), 'utf8')) as CpuProfile
  const interval = (profile.endTime - profile.startTime) / Math.max(1, profile.samples.length)
  const byFunction = new Map<string, number>()
  const byGroup = new Map<string, number>()
  for (const node of profile.nodes) {
    const micros = (node.hitCount ?? 0) * interval
    if (micros === 0) continue
    const { functionName, url, lineNumber } = node.callFrame
    const group = groupOf(url, functionName)
    const where = url ? `${url.replace(/^.*\/(src|bench|node_modules)\//, '$1/')}:${lineNumber + 1}` : ''
    const key = `${functionName || '(anonymous)'} ${where}`.trim()
    byFunction.set(key, (byFunction.get(key) ?? 0) + micros)
    byGroup.set(group, (byGroup.get(group) ?? 0) + micros)
  }
  const total = [...byGroup.values()].reduce((a, b) => a + b, 0)
  const per = (micros: number): string => (requests > 0 ? `${(micros / requests).toFixed(1)} µs/req` : `${Math.round(micros / 1000)} ms`)
  const pct = (micros: number): string => `${((100 * micros) / total).toFixed(1)}%`
  const rows = (map: Map<string, number>, n: number): string[] =>
    [...map].sort((a, b) => b[1] - a[1]).slice(0, n).map(([k, v]) => `  ${pct(v).padStart(6)}  ${per(v).padStart(14)}  ${k}`)
  return [
    `profile ${join(dir, file)}: ${Math.round(total / 1000)} ms of samples over ${requests} responses`,
    'self time by group:',
    ...rows(byGroup, 25),
    `top ${top} functions by self time:`,
    ...rows(byFunction, top),
  ].join('\n')
}

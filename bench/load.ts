import autocannon from 'autocannon'
import { request } from 'node:http'

/** One request as the load generator sends it. */
export interface BenchRequest {
  method: 'GET'
  path: string
  headers: Record<string, string>
}

/** Where a row's requests come from: one reusable request, or a finite pre-signed supply. */
export interface RequestSource {
  /** The next request; `undefined` once a pre-signed supply is spent. */
  next(): BenchRequest | undefined
  /** Requests left: `Infinity` for a reusable one. */
  remaining(): number
}

export interface Measurement {
  /** Responses in the timed run, and the seconds they took (first request sent to last answer). */
  responses: number
  seconds: number
  rps: number
  /** Latency percentiles in ms, over 2xx responses, from exact samples. */
  p50: number
  p99: number
  /** Responses that were not 2xx, plus connection errors and timeouts. */
  failures: number
  statuses: Map<number, number>
  /** True when the pre-signed supply ran low and ended the run before its duration. */
  cutShort: boolean
}

/**
 * One autocannon run (a warm-up is a run whose result is dropped). Every request goes through
 * `setupRequest`, even a fixed one, so the load generator does the same work per request in
 * every row. A finite supply caps the run (`maxOverallRequests`) short of a reserve. Latency is recorded from autocannon's
 * per-response times (fractional ms) rather than its integer-ms histogram.
 */
export function drive(url: string, source: RequestSource, connections: number, seconds: number): Promise<Measurement> {
  // Each client may build one request it never sends, and a few more before it sees the stop.
  const reserve = connections * 2
  const supply = source.remaining() - reserve
  if (supply < connections * 10) throw new Error(`only ${source.remaining()} pre-signed requests left; sign more`)
  const limited = Number.isFinite(supply)
  let last: BenchRequest | undefined
  const setupRequest = (req: autocannon.Request): autocannon.Request => {
    // Past the reserve (not expected) the last request is resent: its replay shows up as non-2xx.
    const next = source.next() ?? last
    if (next === undefined) throw new Error('request source is empty')
    last = next
    req.method = next.method
    req.path = next.path
    req.headers = next.headers
    return req
  }
  const latencies: number[] = []
  const statuses = new Map<number, number>()
  let lastAnswer = 0
  const started = performance.now()
  return new Promise((resolve, reject) => {
    const instance = autocannon(
      {
        url,
        connections,
        pipelining: 1,
        duration: seconds,
        ...(limited ? { maxOverallRequests: Math.floor(supply) } : {}),
        requests: [{ setupRequest }],
      },
      (err, result) => {
        if (err) return reject(err)
        const elapsed = (lastAnswer - started) / 1000
        const responses = latencies.length + countNon2xx(statuses)
        latencies.sort((a, b) => a - b)
        resolve({
          responses,
          seconds: elapsed,
          rps: responses / elapsed,
          p50: percentile(latencies, 0.5),
          p99: percentile(latencies, 0.99),
          failures: countNon2xx(statuses) + result.errors + result.timeouts,
          statuses,
          cutShort: limited && elapsed < seconds * 0.95,
        })
      },
    )
    instance.on('response', (_client, status, _bytes, ms) => {
      lastAnswer = performance.now()
      statuses.set(status, (statuses.get(status) ?? 0) + 1)
      if (status >= 200 && status < 300) latencies.push(ms)
    })
  })
}

function countNon2xx(statuses: Map<number, number>): number {
  let n = 0
  for (const [status, count] of statuses) if (status < 200 || status >= 300) n += count
  return n
}

function percentile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return NaN
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? NaN
}

/** Sends one request outside the load run and reads the answer: the row's sanity check. */
export function probe(url: string, req: BenchRequest): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const out = request(url + req.path, { method: req.method, headers: req.headers, agent: false }, (res) => {
      const chunks: Buffer[] = []
      res.on('data', (c: Buffer) => chunks.push(c))
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }))
    })
    out.on('error', reject)
    out.end()
  })
}

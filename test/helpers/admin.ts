import assert from 'node:assert/strict'

/**
 * The value of one sample on the admin listener's `/metrics`, named with its labels as
 * Prometheus prints them (`aauth_gateway_store_errors_total{op="replay"}`); 0 when absent
 * (a labelled counter has no sample until first counted).
 */
export async function metricValue(gw: { adminUrl: string }, sample: string): Promise<number> {
  const text = await (await fetch(gw.adminUrl + '/metrics')).text()
  const line = text.split('\n').find((l) => l.startsWith(`${sample} `))
  return line === undefined ? 0 : Number(line.slice(sample.length + 1))
}

/** `/readyz`'s status. */
export async function readyz(gw: { adminUrl: string }): Promise<number> {
  return (await fetch(gw.adminUrl + '/readyz')).status
}

/** Asserts a problem+json answer with `error`, and returns it. */
export function assertProblemAnswer(res: { status: number; headers: Headers; json(): Record<string, unknown> }, status: number, error: string): void {
  assert.equal(res.status, status)
  assert.equal(res.headers.get('content-type'), 'application/problem+json')
  assert.equal(res.json().error, error)
}

/**
 * Parses `RateLimit: "default";r=<remaining>;t=<seconds>` and checks it: `r` exactly, `t`
 * within [min, max] (a slow machine may cross a second boundary between requests).
 */
export function assertRateLimit(value: string | null, remaining: number, min: number, max: number): void {
  const m = /^"default";r=(\d+);t=(\d+)$/.exec(value ?? '')
  assert.ok(m !== null, `RateLimit ${value}`)
  assert.equal(Number(m[1]), remaining, `RateLimit ${value}`)
  const t = Number(m[2])
  assert.ok(t >= min && t <= max, `RateLimit ${value}: t outside [${min}, ${max}]`)
}

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

/** One sample of `aauth_gateway_requests_total`, its labels parsed. */
export interface RequestSample {
  route: string
  decision: string
  reason: string
  level: string
  value: number
}

/** Every `aauth_gateway_requests_total` sample on the admin listener's `/metrics`. */
export async function requestSamples(gw: { adminUrl: string }): Promise<RequestSample[]> {
  const text = await (await fetch(gw.adminUrl + '/metrics')).text()
  const out: RequestSample[] = []
  for (const line of text.split('\n')) {
    const m = /^aauth_gateway_requests_total\{(.*)\} (\S+)$/.exec(line)
    if (m === null) continue
    const labels: Record<string, string> = {}
    for (const l of (m[1] as string).matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) labels[l[1] as string] = l[2] as string
    out.push({ route: labels.route ?? '', decision: labels.decision ?? '', reason: labels.reason ?? '', level: labels.level ?? '', value: Number(m[2]) })
  }
  return out
}

/** The sum of `aauth_gateway_requests_total` over samples matching every given label. */
export async function requestCount(gw: { adminUrl: string }, labels: Partial<Omit<RequestSample, 'value'>> = {}): Promise<number> {
  let n = 0
  for (const s of await requestSamples(gw)) {
    if (Object.entries(labels).every(([k, v]) => s[k as keyof RequestSample] === v)) n += s.value
  }
  return n
}

/** A failure of `aauth-gateway request` that is neither a usage error nor an HTTP answer: exit 2 with the message. */
export class RequestFailed extends Error {}

/**
 * POSTs to an agent or person server and returns the answer's string `member` (the token it
 * issues), naming it `what` in errors. A network error or an answer without that member is a `RequestFailed` that says what
 * was asked and what came back; `hint` follows a network error (e.g. which command to start).
 */
export async function postForToken(
  url: string,
  init: { headers: Record<string, string>; body: string },
  member: string,
  { what = member, hint = '' }: { what?: string; hint?: string } = {},
): Promise<string> {
  let res: Response
  try {
    res = await fetch(url, { method: 'POST', ...init })
  } catch (err) {
    throw new RequestFailed(`no ${what}: ${url} did not answer (${causeOf(err)})${hint}`)
  }
  const text = await res.text()
  const token = jsonObject(text)[member]
  if (!res.ok || typeof token !== 'string') throw new RequestFailed(`no ${what}: ${url} answered ${res.status}: ${text.slice(0, 300)}`)
  return token
}

/** `text` as a JSON object, or `{}` when it is not one. */
export function jsonObject(text: string): Record<string, unknown> {
  try {
    const value: unknown = JSON.parse(text)
    return typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : {}
  } catch {
    return {}
  }
}

/** What a failed `fetch` says: the socket error code (`ECONNREFUSED`), else its message. */
export function causeOf(err: unknown): string {
  return (err as { cause?: { code?: string } }).cause?.code ?? (err as Error).message
}

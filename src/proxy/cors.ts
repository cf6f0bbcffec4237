import type { OutgoingHttpHeaders } from 'node:http'
import type { RequestContext } from '../pipeline/context.js'
import { record } from './record.js'

/**
 * CORS for agents running in a browser (docs/operations.md "CORS"; Fetch standard §3.2 "CORS protocol").
 * A route lists the origins it serves (`cors.origins`, compiled into `RouteCors`). Only those
 * origins get CORS headers; for any other the gateway behaves as if CORS did not exist, so the
 * browser refuses to hand the answer to the page.
 */

/**
 * What a signed request carries beyond the CORS-safelisted headers (RFC 9421 and the
 * Signature-Key draft's three fields, `Content-Digest` (RFC 9530), AAuth's `Authorization`).
 */
const ALLOW_HEADERS = ['Signature', 'Signature-Input', 'Signature-Key', 'Content-Digest', 'Authorization', 'Content-Type']

/**
 * The answer headers a page must read to act on a challenge (docs/headers-and-errors.md) or to report a request
 * id; without `Access-Control-Expose-Headers` the browser hides them from the agent's code.
 */
const EXPOSE_HEADERS = 'Signature-Error, AAuth-Requirement, Accept-Signature-Scheme, Accept-Signature-Alg, AAuth-Access, X-Request-Id'

/** How long a browser may cache a preflight answer, in seconds (Chromium caps it at 7200). */
const PREFLIGHT_MAX_AGE = '600'

/** A field-name token (RFC 9110 §5.6.2), as a browser lists them in `Access-Control-Request-Headers`. */
const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/

/**
 * Answers a CORS preflight (`OPTIONS` with `Origin` and `Access-Control-Request-Method`) from a
 * listed origin with `204`, before any signature is looked at: a browser never signs a
 * preflight, so verifying it could only fail. The route is the one the actual request will
 * take (matched with the method asked for). Returns false, leaving the request to the normal
 * pipeline, for anything else, an unlisted origin included.
 */
export function answerPreflight(ctx: RequestContext): boolean {
  if (ctx.signed.method !== 'OPTIONS') return false
  const { origin, 'access-control-request-method': wanted } = ctx.req.headers
  if (typeof origin !== 'string' || typeof wanted !== 'string') return false
  let route
  try {
    route = ctx.snapshot.routes.match(ctx.host, ctx.signed.path, wanted)
  } catch {
    return false
  }
  if (route.kind !== 'upstream' || route.cors === undefined || !route.cors.origins.has(origin)) return false
  ctx.route = route
  ctx.res.writeHead(204, {
    'access-control-allow-origin': origin,
    'access-control-allow-methods': route.cors.methods ?? wanted,
    'access-control-allow-headers': allowHeaders(ctx.req.headers['access-control-request-headers']),
    'access-control-max-age': PREFLIGHT_MAX_AGE,
    vary: 'Origin, Access-Control-Request-Method, Access-Control-Request-Headers',
    'cache-control': 'no-store',
  })
  ctx.res.end()
  record(ctx, 204, 'allow', 'preflight')
  return true
}

/**
 * The CORS headers of an actual answer (forwarded or local) on the request's route: for a
 * listed `Origin`, `Access-Control-Allow-Origin` and `-Expose-Headers`; `Vary: Origin` on every
 * answer of a CORS route, since whether those headers appear depends on it.
 */
export function corsHeaders(ctx: RequestContext): Record<string, string> | undefined {
  const cors = ctx.route?.cors
  if (cors === undefined) return undefined
  const origin = ctx.req.headers.origin
  if (typeof origin !== 'string' || !cors.origins.has(origin)) return { vary: 'Origin' }
  return { 'access-control-allow-origin': origin, 'access-control-expose-headers': EXPOSE_HEADERS, vary: 'Origin' }
}

/** Adds `corsHeaders` to an upstream's answer headers, extending its `Vary` rather than replacing it. */
export function addCorsHeaders(headers: OutgoingHttpHeaders, cors: Record<string, string>): void {
  for (const [name, value] of Object.entries(cors)) {
    const prior = headers[name]
    headers[name] = name === 'vary' && prior !== undefined && prior !== '' ? `${String(prior)}, ${value}` : value
  }
}

/** Our headers, plus the ones the browser said it will send when they are plain field names. */
function allowHeaders(requested: string | undefined): string {
  const names = [...ALLOW_HEADERS]
  const known = new Set(names.map((n) => n.toLowerCase()))
  for (const item of (requested ?? '').split(',')) {
    const name = item.trim()
    if (TOKEN.test(name) && !known.has(name.toLowerCase())) {
      known.add(name.toLowerCase())
      names.push(name)
    }
  }
  return names.join(', ')
}

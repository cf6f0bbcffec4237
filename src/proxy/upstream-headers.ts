import type { IncomingHttpHeaders } from 'node:http'
import type { CompiledRoute } from '../routes/route.js'
import type { RequestContext } from '../pipeline/context.js'
import { setIdentityHeaders } from './identity-headers.js'

const SIGNATURE_HEADERS = ['signature', 'signature-input', 'signature-key'] as const

/**
 * The headers sent upstream (docs/headers-and-errors.md, docs/security.md, "Behind a load balancer"):
 * the inbound ones that survived `checkMessage` (no hop-by-hop, no forged identity), the
 * identity the gateway established, `X-Forwarded-*` and `X-Request-Id`. Built on the request's
 * own header object (the one the signature and the policy read), so what was verified is what
 * is sent. `traceparent` / `tracestate` (W3C Trace Context) pass through untouched.
 *
 *  - `Host` is the host the request was routed on (an absolute-form target's authority, else
 *    the inbound `Host`), as Envoy and nginx keep it by default: virtual-hosted backends see
 *    the name the client asked for.
 *  - From a peer in `trust.proxies`, `X-Forwarded-For` is appended to and an inbound
 *    `X-Forwarded-Proto` / `X-Forwarded-Host` kept (the load balancer saw the client). From
 *    any other peer they are replaced: `X-Forwarded-For` is the peer address alone,
 *    `X-Forwarded-Proto` comes from the listener, and `X-Forwarded-Host` is the verified
 *    `@authority` (`resource.authority`) for a signed request, the routed host otherwise.
 *  - `X-Request-Id` is the request's id (a trusted proxy's, else the gateway's own).
 *  - `Expect` is answered by the gateway's own server (`100 Continue`), not forwarded.
 */
export function upstreamHeaders(ctx: RequestContext, route: CompiledRoute): IncomingHttpHeaders {
  const headers = ctx.req.headers
  delete headers.expect
  if (route.stripSignatureHeaders) for (const h of SIGNATURE_HEADERS) delete headers[h]
  setIdentityHeaders(headers, ctx.identity)
  const peer = ctx.socket.remoteAddress ?? ''
  const trusted = ctx.viaTrustedProxy
  const prior = trusted ? headers['x-forwarded-for'] : undefined
  headers['x-forwarded-for'] = prior ? `${prior}, ${peer}` : peer
  if (!trusted || headers['x-forwarded-proto'] === undefined) {
    headers['x-forwarded-proto'] = 'encrypted' in ctx.socket ? 'https' : 'http'
  }
  if (!trusted || headers['x-forwarded-host'] === undefined) {
    headers['x-forwarded-host'] = ctx.signature === null ? ctx.host : ctx.signed.authority
  }
  headers['x-request-id'] = ctx.requestId
  headers.host = ctx.host
  return headers
}

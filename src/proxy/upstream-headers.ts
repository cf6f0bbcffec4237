import type { IncomingHttpHeaders } from 'node:http'
import type { CompiledRoute } from '../config/compile.js'
import type { RequestContext } from '../pipeline/context.js'
import { setIdentityHeaders } from './identity-headers.js'

const SIGNATURE_HEADERS = ['signature', 'signature-input', 'signature-key'] as const

/**
 * The headers sent upstream (CONTRACT §5, README "Security model"): the inbound ones that
 * survived `checkMessage` (no hop-by-hop, no forged identity), the identity the gateway
 * established, and `X-Forwarded-*`. Built on the request's own header object (the one the
 * signature and the policy read), so what was verified is what is sent.
 *
 *  - `Host` is the host the request was routed on (an absolute-form target's authority, else
 *    the inbound `Host`), as Envoy and nginx keep it by default: virtual-hosted backends see
 *    the name the client asked for.
 *  - `X-Forwarded-Host` is the verified `@authority` (`resource.authority`) for a signed
 *    request, the authority its signature covered; for an unsigned one, the routed host.
 *  - `X-Forwarded-For` is appended to; `X-Forwarded-Proto` is set from the listener.
 *  - `Expect` is answered by the gateway's own server (`100 Continue`), not forwarded.
 */
export function upstreamHeaders(ctx: RequestContext, route: CompiledRoute): IncomingHttpHeaders {
  const headers = ctx.req.headers
  delete headers.expect
  if (route.stripSignatureHeaders) for (const h of SIGNATURE_HEADERS) delete headers[h]
  setIdentityHeaders(headers, ctx.identity)
  const client = ctx.socket.remoteAddress ?? ''
  const prior = headers['x-forwarded-for']
  headers['x-forwarded-for'] = prior ? `${prior}, ${client}` : client
  headers['x-forwarded-proto'] = 'encrypted' in ctx.socket ? 'https' : 'http'
  headers['x-forwarded-host'] = ctx.signature === null ? ctx.host : ctx.signed.authority
  headers.host = ctx.host
  return headers
}

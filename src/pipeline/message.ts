import { LocalReplyError } from '../errors.js'
import { countFieldLines, stripInbound } from '../request/headers.js'
import { isAuthority } from '../request/target.js'
import type { RequestContext } from './context.js'

/**
 * Methods the gateway answers itself with 405: `TRACE` would echo the signature and identity
 * headers back to whoever asked (RFC 9110 §9.3.8 "Security Considerations"), and `CONNECT`
 * asks for a tunnel, which a reverse proxy does not offer (it reaches the listener's `connect`
 * event, answered there with the same reply).
 */
const REFUSED_METHODS = new Set(['TRACE', 'CONNECT'])

/**
 * The `Allow` of those 405s (RFC 9110 §15.5.6 requires one): the methods the gateway forwards.
 * Which of them a route or its backend takes is not known before routing.
 */
export const FORWARDED_METHODS: readonly string[] = Object.freeze(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'])

/**
 * The first stage: the message is one the gateway and any backend read the same way, and it
 * carries nothing only the gateway may say (docs/security.md). A refused target, an
 * ambiguous or malformed `Host`, or a transfer coding other than `chunked` is a 400 before any
 * route, key or policy is looked at; then hop-by-hop
 * headers (RFC 9110 §7.6.1) and forged identity headers (docs/headers-and-errors.md) are removed, so no later
 * stage, policy or backend can read them.
 */
export function checkMessage(ctx: RequestContext): void {
  const { req } = ctx
  if (typeof ctx.target === 'string') throw new LocalReplyError('bad_target', ctx.target)
  const hosts = countFieldLines(req.rawHeaders, 'host')
  if (hosts > 1) throw new LocalReplyError('bad_request', 'the request has more than one Host header')
  if (hosts === 0 && req.httpVersion === '1.1') throw new LocalReplyError('bad_request', 'an HTTP/1.1 request needs a Host header')
  if (hosts === 1 && !isAuthority(req.headers.host ?? '')) throw new LocalReplyError('bad_request', 'the Host header is not a valid host[:port]')
  const coding = req.headers['transfer-encoding']
  if (coding !== undefined && coding.trim().toLowerCase() !== 'chunked') {
    // The parser framed the body by its final `chunked`; an upstream request carries no
    // `Transfer-Encoding`, so any other coding (`gzip, chunked`) would reach the backend as
    // plain bytes it reads differently.
    throw new LocalReplyError('bad_request', 'the only transfer coding accepted is "chunked"')
  }
  if (REFUSED_METHODS.has(ctx.signed.method)) {
    throw new LocalReplyError('method_not_allowed', `the gateway does not serve ${ctx.signed.method}`, { allow: FORWARDED_METHODS })
  }
  stripInbound(req.headers)
}

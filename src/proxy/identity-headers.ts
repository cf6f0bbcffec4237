import type { IncomingHttpHeaders } from 'node:http'
import type { Identity } from '../identity.js'

/**
 * Writes the trusted identity headers of docs/headers-and-errors.md onto the headers forwarded upstream.
 * Empty values are omitted rather than sent blank, so a backend can test for presence.
 * (Inbound identity headers in any spelling were already removed by `checkMessage`.)
 */
export function setIdentityHeaders(headers: IncomingHttpHeaders, id: Identity): void {
  headers['x-aauth-level'] = id.level
  if (id.level === 'none') return
  headers['x-aauth-scheme'] = id.scheme
  headers['x-aauth-thumbprint'] = id.thumbprint
  if (id.agent) headers['x-aauth-agent'] = identityValue(id.agent)
  if (id.agentDelegate) headers['x-aauth-agent-delegate'] = identityValue(id.agentDelegate)
  if (id.user) {
    headers['x-aauth-user'] = identityValue(id.user)
    // The person is (iss, sub): two person servers may both have a user "alice".
    headers['x-aauth-user-issuer'] = identityValue(id.issuer)
  }
  if (id.scope.length > 0) headers['x-aauth-scope'] = id.scope.map((s) => identityValue(s, true)).join(' ')
  if (id.delegation.length > 0) headers['x-aauth-delegation'] = id.delegation.map((a) => identityValue(actorName(a), true)).join(',')
  if (id.tokenType) headers['x-aauth-token-type'] = identityValue(id.tokenType)
}

/** Each actor is written as its `sub`, or its `agent` where it has no `sub` (docs/headers-and-errors.md). */
function actorName(actor: Readonly<Record<string, unknown>>): string {
  const name = typeof actor.sub === 'string' && actor.sub !== '' ? actor.sub : actor.agent
  return typeof name === 'string' ? name : ''
}

/** Visible ASCII without `%`, `,` or space: a value a backend reads exactly as written. */
const PLAIN = /^[\x21-\x24\x26-\x2b\x2d-\x7e]+$/

/**
 * A claim as a header value the backend decodes back to exactly what the policy saw (README
 * "Security model"). Values come from tokens, so anything HTTP would alter or split is
 * percent-encoded (RFC 3986 §2.1, as `encodeURIComponent`): leading or trailing spaces (field
 * parsing drops them), characters outside visible ASCII, the list separators `,` and space
 * (inside list items), and `%` itself, so `decodeURIComponent` is always the inverse. Values
 * made only of other visible ASCII, such as URLs and plain names, go as they are.
 */
export function identityValue(value: string, listItem = false): string {
  if (PLAIN.test(value)) return value
  if (!listItem && /^[\x21-\x24\x26-\x7e]([\x20-\x24\x26-\x7e]*[\x21-\x24\x26-\x7e])?$/.test(value)) return value
  // A lone surrogate (possible in JSON) has no UTF-8 form: it becomes U+FFFD rather than a throw.
  return encodeURIComponent(value.replace(/[\uD800-\uDFFF]/gu, '\uFFFD'))
}

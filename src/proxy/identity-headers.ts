import type { IncomingHttpHeaders } from 'node:http'
import type { Identity } from '../identity.js'

/**
 * Writes the trusted identity headers of CONTRACT §5 onto the headers forwarded upstream.
 * Empty values are omitted rather than sent blank, so a backend can test for presence.
 * (Inbound `x-aauth-*` were already removed by the pipeline.)
 */
export function setIdentityHeaders(headers: IncomingHttpHeaders, id: Identity): void {
  headers['x-aauth-level'] = id.level
  if (id.level === 'none') return
  headers['x-aauth-scheme'] = id.scheme
  headers['x-aauth-thumbprint'] = id.thumbprint
  if (id.agent) headers['x-aauth-agent'] = headerSafe(id.agent)
  if (id.agentDelegate) headers['x-aauth-agent-delegate'] = headerSafe(id.agentDelegate)
  if (id.user) headers['x-aauth-user'] = headerSafe(id.user)
  if (id.scope.length > 0) headers['x-aauth-scope'] = headerSafe(id.scope.join(' '))
  if (id.delegation.length > 0) headers['x-aauth-delegation'] = headerSafe(id.delegation.map(actorName).join(','))
  if (id.tokenType) headers['x-aauth-token-type'] = headerSafe(id.tokenType)
}

/** Each actor is written as its `sub`, or its `agent` where it has no `sub` (CONTRACT §5). */
function actorName(actor: Readonly<Record<string, unknown>>): string {
  const name = typeof actor.sub === 'string' && actor.sub !== '' ? actor.sub : actor.agent
  return typeof name === 'string' ? name : ''
}

/** Claims come from tokens: anything outside visible ASCII is percent-encoded, never sent raw. */
function headerSafe(value: string): string {
  return /^[\x20-\x7e]*$/.test(value) ? value : encodeURIComponent(value)
}

import type { IncomingHttpHeaders, OutgoingHttpHeaders } from 'node:http'

/**
 * Hop-by-hop fields (RFC 9110 §7.6.1): meaningful for one connection only, so a proxy removes
 * them in both directions, together with every field the `Connection` header names.
 * `Proxy-*` fields are matched by prefix; `HTTP2-Settings` belongs to the h2c upgrade.
 */
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'http2-settings',
  'proxy-connection',
])

/** The field names a `Connection` header lists, lower-cased. */
function connectionOptions(value: string | string[] | number | undefined): Set<string> {
  const names = new Set<string>()
  if (value === undefined) return names
  for (const line of Array.isArray(value) ? value : [String(value)]) {
    for (const token of line.split(',')) {
      const name = token.trim().toLowerCase()
      if (name !== '') names.add(name)
    }
  }
  return names
}

function isHopByHop(name: string, named: ReadonlySet<string>): boolean {
  return HOP_BY_HOP.has(name) || name.startsWith('proxy-') || named.has(name)
}

/** Removes hop-by-hop fields from a lower-cased header object, in place (either direction). */
export function stripHopByHop(headers: IncomingHttpHeaders | OutgoingHttpHeaders): void {
  const named = connectionOptions(headers.connection)
  for (const name of Object.keys(headers)) if (isHopByHop(name, named)) delete headers[name]
}

/**
 * Whether a field name is one of the gateway's identity headers in any spelling a backend
 * might read as one: any case, `_` for `-` (CGI-style servers map both to `HTTP_X_AAUTH_*`).
 */
export function isIdentityHeaderName(name: string): boolean {
  if (name.length < 8) return false
  const c = name.charCodeAt(0) | 0x20
  if (c !== 0x78 /* x */) return false
  return name.slice(0, 8).toLowerCase().replace(/_/g, '-') === 'x-aauth-'
}

/**
 * Removes, in one pass over an inbound header object, the hop-by-hop headers and every
 * identity header in any spelling (docs/headers-and-errors.md): only the gateway speaks for identity.
 */
export function stripInbound(headers: IncomingHttpHeaders): void {
  const named = connectionOptions(headers.connection)
  for (const name in headers) if (isHopByHop(name, named) || isIdentityHeaderName(name)) delete headers[name]
}

/** How many field lines named `name` (lower-case) the raw header list holds. */
export function countFieldLines(rawHeaders: readonly string[], name: string): number {
  let n = 0
  for (let i = 0; i < rawHeaders.length; i += 2) {
    const field = rawHeaders[i] as string
    if (field.length === name.length && field.toLowerCase() === name) n++
  }
  return n
}

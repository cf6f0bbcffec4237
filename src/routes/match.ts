import { LocalReplyError } from '../errors.js'

/** The parts of a route the matcher needs; the compiled route carries more. */
export interface Matchable {
  readonly host: string | undefined
  readonly pathPrefix: string
  readonly methods: ReadonlySet<string> | undefined
  /** Matches `pathPrefix` itself only, not the paths beneath it (the resource's own endpoints). */
  readonly exact?: boolean
}

/**
 * Picks the route for a request (docs/configuration.md `routes`): the prefix matches whole path segments
 * (`/data` matches `/data` and `/data/x`, never `/database`), the longest matching prefix wins,
 * and `host` / `methods` filter. A path and host that match only with another method answer 405
 * rather than 404, which is what an operator expects when a route exists.
 */
export class RouteTable<R extends Matchable> {
  /** Longest prefix first, so the first match is the winner. */
  private readonly ordered: readonly R[]

  constructor(routes: readonly R[]) {
    this.ordered = [...routes].sort((a, b) => b.pathPrefix.length - a.pathPrefix.length)
  }

  /**
   * The route for a request. Throws `method_not_allowed` carrying, for `Allow`, the methods of
   * every route the path and host matched (RFC 9110 §15.5.6), or `route_not_found`.
   */
  match(host: string, path: string, method: string): R {
    const hostname = stripPort(host.toLowerCase())
    let allowed: Set<string> | undefined
    for (const route of this.ordered) {
      if (route.exact === true ? route.pathPrefix !== path : !prefixMatches(route.pathPrefix, path)) continue
      if (route.host !== undefined && route.host !== hostname && route.host !== host.toLowerCase()) continue
      if (route.methods !== undefined && !route.methods.has(method)) {
        allowed ??= new Set()
        for (const m of route.methods) allowed.add(m)
        continue
      }
      return route
    }
    if (allowed !== undefined) {
      const allow = [...allowed]
      throw new LocalReplyError('method_not_allowed', `method ${method} is not allowed here; this resource takes ${allow.join(', ')}`, { allow })
    }
    throw new LocalReplyError('route_not_found', 'no route matches this request')
  }
}

/** Whether `path` is `prefix` or lies beneath it, by whole segments. */
export function prefixMatches(prefix: string, path: string): boolean {
  if (prefix === '/' ) return true
  const p = prefix.endsWith('/') ? prefix.slice(0, -1) : prefix
  return path === p || (path.startsWith(p) && path.charCodeAt(p.length) === 0x2f /* / */)
}

function stripPort(host: string): string {
  if (host.startsWith('[')) {
    const end = host.indexOf(']')
    return end === -1 ? host : host.slice(0, end + 1)
  }
  const colon = host.lastIndexOf(':')
  return colon === -1 ? host : host.slice(0, colon)
}

/**
 * The canonical request target: the one origin-form path and query that routing, the signature
 * base (`@path`, `@query`, RFC 9421 §2.2.6-2.2.7), CEL (`request.path`, `request.query`) and the
 * upstream request all use. It is the target as received, never decoded, normalised or
 * re-encoded; targets a backend could read differently from the gateway are refused instead
 * (docs/security.md).
 */
export interface RequestTarget {
  /** Origin-form path, byte for byte as received (`/` when an absolute-form target had none). */
  readonly path: string
  /** The query with its leading `?`, or `''` when the target had none. */
  readonly query: string
  /** The authority of an absolute-form target (RFC 9112 §3.2.2), which then replaces `Host`. */
  readonly authority: string | undefined
}

/** Why a target was refused; the detail of the 400 answer. */
export type TargetProblem = string

/**
 * Visible ASCII except `#` (a fragment is never part of a request target, RFC 9112 §3.2) and
 * `\` (a path separator for some servers). Spaces and non-ASCII never reach here: they are not
 * valid in a request line.
 */
const TARGET_CHARS = /^[\x21-\x22\x24-\x5b\x5d-\x7e]*$/

/** A `%` not followed by two hex digits. */
const BAD_PERCENT = /%(?![0-9A-Fa-f]{2})/

/**
 * Escapes that decode to a separator or a terminator in some backend: `/` (`%2F`), `\`
 * (`%5C`) and NUL (`%00`). A route matches `/a%2Fb` as one segment; a backend that decodes it
 * first sees two.
 */
const AMBIGUOUS_ESCAPE = /%(2[Ff]|5[Cc]|00)/

/**
 * Escapes of unreserved characters (RFC 3986 §2.3: ALPHA, DIGIT, `-`, `.`, `_`, `~`), which
 * URI normalisation (§6.2.2.2) decodes: `/d%61ta` is `/data` to a backend that decodes before
 * routing, but not to a route on `/data` or a policy reading `request.path`. Clients never need
 * them, so a path has one spelling of each of these characters.
 */
const UNRESERVED_ESCAPE = /%(2[DEde]|3[0-9]|[46][1-9A-Fa-f]|[57][0-9Aa]|5[Ff]|7[Ee])/

const ABSOLUTE_FORM = /^[Hh][Tt][Tt][Pp][Ss]?:\/\/([^/?]*)/

/**
 * `uri-host [":" port]` (RFC 3986 §3.2.2-3.2.3): an IP literal in brackets, or a reg-name of
 * unreserved characters, sub-delims and escapes. What `Host` and an absolute-form authority
 * must be; anything else (a lone `[`, a `/`, a `\`) is a 400, not a name to route or forward on.
 */
const AUTHORITY = /^(\[[0-9A-Fa-f:.]+\]|(?:[A-Za-z0-9\-._~!$&'()*+,;=]|%[0-9A-Fa-f]{2})*)(:[0-9]*)?$/

/** Whether `value` is a valid `Host` value (possibly empty, RFC 9112 §3.2) or authority. */
export function isAuthority(value: string): boolean {
  return AUTHORITY.test(value)
}

/**
 * Parses `req.url` into the canonical target, or says why it is refused. The rule (README
 * "Security model"): the path is origin-form (or absolute-form `http(s)://authority/...`,
 * RFC 9112 §3.2.2, converted to origin-form), made of visible ASCII without `#` or `\`, with
 * well-formed percent-escapes, no escaped `/`, `\` or NUL, no escaped unreserved character
 * (`%2e`, `%61`: one spelling per path), no empty segment (`//`), and no segment that is `.` or
 * `..` once `;params` are removed as Tomcat-style servers do. An absolute-form authority is a
 * valid `host[:port]`. The query may hold any visible ASCII but `#`.
 */
export function parseRequestTarget(raw: string): RequestTarget | TargetProblem {
  let rest = raw
  let authority: string | undefined
  if (rest.charCodeAt(0) !== 0x2f /* / */) {
    const absolute = ABSOLUTE_FORM.exec(rest)
    if (absolute === null) return 'the request target must be a path (origin-form) or an absolute http(s) URL'
    authority = absolute[1] ?? ''
    if (authority === '' || !isAuthority(authority)) return 'the absolute-form target has no usable authority'
    rest = rest.slice(absolute[0].length)
    if (rest === '' || rest.charCodeAt(0) === 0x3f /* ? */) rest = '/' + rest
  }
  const q = rest.indexOf('?')
  const path = q === -1 ? rest : rest.slice(0, q)
  const query = q === -1 ? '' : rest.slice(q)
  const problem = pathProblem(path) ?? queryProblem(query)
  return problem ?? { path, query, authority }
}

function pathProblem(path: string): TargetProblem | undefined {
  if (!TARGET_CHARS.test(path)) return 'the path holds a character that is not allowed (space, "#", "\\" or non-ASCII)'
  if (BAD_PERCENT.test(path)) return 'the path holds a "%" that is not a percent-escape'
  if (AMBIGUOUS_ESCAPE.test(path)) return 'the path holds an escaped "/", "\\" or NUL'
  if (UNRESERVED_ESCAPE.test(path)) return 'the path holds an escaped letter, digit, "-", ".", "_" or "~"'
  // Segments after the leading `/`; the last one may be empty (a trailing slash).
  const segments = path.split('/')
  for (let i = 1; i < segments.length; i++) {
    const segment = segments[i] as string
    if (segment === '' && i < segments.length - 1) return 'the path holds an empty segment ("//")'
    if (isDotSegment(segment)) return 'the path holds a "." or ".." segment'
  }
  return undefined
}

function queryProblem(query: string): TargetProblem | undefined {
  for (let i = 0; i < query.length; i++) {
    const c = query.charCodeAt(i)
    if (c < 0x21 || c > 0x7e || c === 0x23 /* # */) return 'the query holds a character that is not allowed'
  }
  return undefined
}

/**
 * `.` or `..` before any `;parameters`, the `;` spelled as it is or as `%3B` (a backend that
 * decodes before it removes parameters reads `..%3Bx` as `..`). `%2e` never gets here: it is
 * an escaped unreserved character.
 */
function isDotSegment(segment: string): boolean {
  const name = segment.split(/;|%3[Bb]/, 1)[0]
  return name === '.' || name === '..'
}

/**
 * Generated request targets for property tests: the spellings that make paths ambiguous
 * (dot segments, escaped dots, slashes, backslashes and NUL, `;params`, empty segments,
 * malformed escapes) mixed with ordinary ones, and queries with the characters URL parsers
 * like to rewrite. Every character is one a request line may carry (visible ASCII), so the
 * HTTP parser lets each through to the gateway's own rule.
 */

const SEGMENTS = [
  'a', 'data', 'public', 'x1', 'file.json', 'caf%C3%A9', '%E2%82%AC', '%F0%9F%98%80', '%20', 'a%20b', '%25', '%3F', '%23',
  '.', '..', '...', '%2e', '%2E', '%2e%2e', '.%2E', '%2E.', '..;', '..;x=1', '.;', ';a=b', 'a;b=c', '..%3b', '..%3Bx', '%3B',
  '%2f', '%2F', '%5c', '%5C', '%00', '%41', '%7e', '%7E', '%5F', '%2D', '%61dmin', '~', '-', '_', "'", '"', '[', ']', '(', ')',
  '*', ':', '@', '!', '$', '&', '+', ',', '=', '%', '%g1', '%2', 'a%', '\\', '..\\', '#', '{', '}', '|', '^', '`', '<', '>', '',
]

const QUERY_PIECES = ['a=1', 'b', '"q"', "'", '[0]', '%', '%2e%2e', '%2F', '%5c', '%00', '+', '=', '&', '%E2%82%AC', '../..', '\\', '?', '/', ';', '#', '%zz', '{}', '|']

function pick<T>(random: () => number, from: readonly T[]): T {
  return from[Math.floor(random() * from.length)] as T
}

/** A random segment: from the list, or a few random visible ASCII characters. */
function segment(random: () => number): string {
  if (random() < 0.75) return pick(random, SEGMENTS)
  let s = ''
  const n = 1 + Math.floor(random() * 4)
  for (let i = 0; i < n; i++) s += String.fromCharCode(0x21 + Math.floor(random() * 94))
  return s
}

/** One request target: mostly origin-form, sometimes absolute-form; sometimes with a query. */
export function randomTarget(random: () => number): string {
  const n = 1 + Math.floor(random() * 4)
  const segments: string[] = []
  for (let i = 0; i < n; i++) {
    // Pairs of list segments make "ordinary" paths likely enough to be accepted often.
    segments.push(random() < 0.5 ? pick(random, ['a', 'data', 'x1', 'caf%C3%A9', 'v2', 'items', 'a;b=c', '%20']) : segment(random))
  }
  let path = '/' + segments.join('/')
  // A request line's target never holds a space; `#` and `?` in a segment are left as they
  // are, the first `?` starting the query.
  if (random() < 0.1) path += '/'
  let query = ''
  if (random() < 0.4) {
    const parts: string[] = []
    const m = 1 + Math.floor(random() * 3)
    for (let i = 0; i < m; i++) parts.push(pick(random, QUERY_PIECES))
    query = '?' + parts.join(random() < 0.5 ? '&' : '')
  }
  const target = path + query
  if (random() < 0.1) return `${pick(random, ['http', 'HTTP', 'https'])}://${pick(random, ['api.test', 'api.test:8080', '127.0.0.1', '[::1]:1'])}${target}`
  return target
}

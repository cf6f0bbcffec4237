import type { Identity } from '../identity.js'

/** The top-level CEL variables. A rule's `reads` is a subset of these. */
export const POLICY_VARIABLES = ['aauth', 'request', 'now'] as const
export type PolicyVariable = (typeof POLICY_VARIABLES)[number]

/**
 * The per-request CEL context (README "Policies"). This is on the hot path, so nothing is built that
 * no rule reads: a variable absent from the policy's `reads` is left out of the context, and
 * inside `aauth` and `request` the costly fields (JWT claims, the `act` chain, headers, the
 * query) are converted on first read and then kept for the remaining rules of the evaluation.
 */

/** The request as policies see it. */
export interface PolicyRequest {
  method: string
  /** The path without the query string. */
  path: string
  /** The public host the agent addressed. */
  host: string
  query: Readonly<Record<string, string>>
  /**
   * Node's `IncomingHttpHeaders` may be passed as is: names are lower-cased and a repeated header
   * joined with ", " only when a rule reads `request.headers`.
   */
  headers: Readonly<Record<string, string | readonly string[] | undefined>>
}

/** What CEL sees: `int` is a BigInt, `double` a number. */
export type CelValue = string | boolean | bigint | number | null | readonly CelValue[] | CelMap
export interface CelMap {
  readonly [key: string]: CelValue
}

export interface PolicyContext {
  aauth?: AAuthValue
  request?: RequestValue
  now?: Date
}

export function buildPolicyContext(
  identity: Identity,
  request: PolicyRequest,
  reads: ReadonlySet<PolicyVariable>,
  now: Date,
): PolicyContext {
  const ctx: PolicyContext = {}
  if (reads.has('aauth')) ctx.aauth = new AAuthValue(identity)
  if (reads.has('request')) ctx.request = new RequestValue(request)
  if (reads.has('now')) ctx.now = now
  return ctx
}

/**
 * Converts decoded JSON for CEL, recursively. cel-js represents `int` as BigInt, so a safe
 * integer becomes a BigInt (`exp > 1700000000` compares int with int) and any other number a
 * double. cel-js reads plain objects by own key only, so a `__proto__` claim stays an ordinary
 * key. Anything that is not JSON is passed through; CEL then fails (closed) if a rule uses it.
 */
export function toCelValue(value: unknown): CelValue {
  if (typeof value === 'number') return Number.isSafeInteger(value) ? BigInt(value) : value
  if (Array.isArray(value)) return value.map(toCelValue)
  if (isPlainObject(value)) return toCelMap(value)
  return value as CelValue
}

function toCelMap(obj: Readonly<Record<string, unknown>>): CelMap {
  const out: Record<string, CelValue> = {}
  for (const key of Object.keys(obj)) {
    const value = toCelValue(obj[key])
    // Assigning `__proto__` would set the prototype; define it as the own key JSON meant.
    if (key === '__proto__') Object.defineProperty(out, key, { value, enumerable: true, writable: true })
    else out[key] = value
  }
  return out
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  if (typeof v !== 'object' || v === null) return false
  const proto: unknown = Object.getPrototypeOf(v)
  return proto === Object.prototype || proto === null
}

/** `aauth`: field names are the CEL ones; CEL reads them through these getters. */
export class AAuthValue {
  readonly #id: Identity
  #claims: CelMap | undefined
  #delegation: readonly CelMap[] | undefined
  constructor(identity: Identity) {
    this.#id = identity
  }
  get level(): string { return this.#id.level }
  get scheme(): string { return this.#id.scheme }
  get token_type(): string { return this.#id.tokenType }
  get agent(): string { return this.#id.agent }
  get agent_delegate(): string { return this.#id.agentDelegate }
  get user(): string { return this.#id.user }
  get issuer(): string { return this.#id.issuer }
  get scope(): readonly string[] { return this.#id.scope }
  get thumbprint(): string { return this.#id.thumbprint }
  get jwt_claims(): CelMap {
    return (this.#claims ??= toCelMap(this.#id.claims))
  }
  get delegation(): readonly CelMap[] {
    return (this.#delegation ??= this.#id.delegation.map(toCelMap))
  }
}

/** `request`: headers are normalised on first read only. */
export class RequestValue {
  readonly #req: PolicyRequest
  #headers: Readonly<Record<string, string>> | undefined
  constructor(request: PolicyRequest) {
    this.#req = request
  }
  get method(): string { return this.#req.method }
  get path(): string { return this.#req.path }
  get host(): string { return this.#req.host }
  get query(): Readonly<Record<string, string>> { return this.#req.query }
  get headers(): Readonly<Record<string, string>> {
    return (this.#headers ??= normaliseHeaders(this.#req.headers))
  }
}

function normaliseHeaders(raw: PolicyRequest['headers']): Record<string, string> {
  // No prototype: a client may send a header named `__proto__`.
  const out: Record<string, string> = Object.create(null) as Record<string, string>
  for (const name of Object.keys(raw)) {
    const value = raw[name]
    if (value === undefined) continue
    const key = name.toLowerCase()
    const joined = typeof value === 'string' ? value : value.join(', ')
    // Two spellings of one name (possible in a hand-built record) merge like a repeated header.
    out[key] = out[key] === undefined ? joined : `${out[key]}, ${joined}`
  }
  return out
}

/**
 * A `PolicyRequest` from a raw request target (`/path?query`), parsing the query only when read.
 * A repeated query parameter keeps its first value.
 */
export function policyRequestFrom(
  method: string,
  target: string,
  host: string,
  headers: PolicyRequest['headers'],
): PolicyRequest {
  return new TargetRequest(method, target, host, headers)
}

// A class, not an object literal with a getter: V8 builds those in dictionary mode, ten times slower.
class TargetRequest implements PolicyRequest {
  readonly path: string
  #query: Readonly<Record<string, string>> | undefined
  constructor(
    readonly method: string,
    private readonly target: string,
    readonly host: string,
    readonly headers: PolicyRequest['headers'],
  ) {
    const q = target.indexOf('?')
    this.path = q < 0 ? target : target.slice(0, q)
  }
  get query(): Readonly<Record<string, string>> {
    return (this.#query ??= this.path.length === this.target.length ? EMPTY : parseQuery(this.target.slice(this.path.length + 1)))
  }
}

const EMPTY: Readonly<Record<string, string>> = Object.freeze(Object.create(null) as Record<string, string>)

function parseQuery(search: string): Record<string, string> {
  const out: Record<string, string> = Object.create(null) as Record<string, string>
  for (const [k, v] of new URLSearchParams(search)) if (out[k] === undefined) out[k] = v
  return out
}

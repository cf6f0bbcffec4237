import type { Identity } from '../identity.js'
import type { PolicyVariable } from './environment.js'

/**
 * The per-request CEL context (CONTRACT §4). This is on the hot path, so nothing is built that
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

/** What CEL sees: `int` is a BigInt, `double` a number, maps have no prototype. */
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
 * Converts decoded JSON for CEL. cel-js has no implicit int/double mixing for declared ints and
 * represents `int` as BigInt, so a safe integer becomes a BigInt (`exp > 1700000000` is int vs
 * int) and any other number a double. Maps are rebuilt without a prototype so a `__proto__`
 * claim stays an ordinary key. Anything that is not JSON is passed through; CEL then fails
 * (closed) if a rule touches it.
 */
export function toCelValue(value: unknown): CelValue {
  if (typeof value === 'number') return Number.isSafeInteger(value) ? BigInt(value) : value
  if (Array.isArray(value)) return value.map(toCelValue)
  if (isPlainObject(value)) return toCelMap(value)
  return value as CelValue
}

function toCelMap(obj: Readonly<Record<string, unknown>>): CelMap {
  const out: Record<string, CelValue> = Object.create(null) as Record<string, CelValue>
  for (const key of Object.keys(obj)) out[key] = toCelValue(obj[key])
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
 * A `PolicyRequest` from a raw request target (`/path?query`), splitting path and parsing the
 * query only when read. A repeated query parameter keeps its first value.
 */
export function policyRequestFrom(
  method: string,
  target: string,
  host: string,
  headers: PolicyRequest['headers'],
): PolicyRequest {
  const q = target.indexOf('?')
  let query: Readonly<Record<string, string>> | undefined
  return {
    method,
    host,
    headers,
    path: q < 0 ? target : target.slice(0, q),
    get query() {
      return (query ??= q < 0 ? EMPTY : parseQuery(target.slice(q + 1)))
    },
  }
}

const EMPTY: Readonly<Record<string, string>> = Object.freeze(Object.create(null) as Record<string, string>)

function parseQuery(search: string): Record<string, string> {
  const out: Record<string, string> = Object.create(null) as Record<string, string>
  for (const [k, v] of new URLSearchParams(search)) if (out[k] === undefined) out[k] = v
  return out
}

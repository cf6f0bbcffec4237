import { serializeDictionary, Token, type Dictionary } from 'structured-headers'
import {
  GatewayError,
  LocalReplyError,
  PolicyDenied,
  RequirementError,
  SignatureError,
  type LocalReason,
  type ReasonCode,
  type Requirement,
  type SignatureErrorCode,
} from '../errors.js'
import type { Decision } from '../metrics/metrics.js'

/** A response the gateway writes itself (Envoy's "local reply"). */
export interface LocalReply {
  status: number
  headers: Record<string, string>
  body: ProblemBody | PendingBody
  decision: Decision
  reason: ReasonCode
  /** The decision line's `detail`: the body's, plus what only the operator may learn. */
  logDetail: string
}

/** What the renderer reads of a config snapshot (a `Snapshot` is one). */
export interface RenderOptions {
  readonly accept: AcceptHeaders
  /** `policies_visible`: whether a 403 names the policy and rule. */
  readonly policiesVisible: boolean
}

/** RFC 9457 problem details, plus AAuth's `error` member (AAuth -11 "Error Response Format"; docs/headers-and-errors.md). */
export interface ProblemBody {
  type: string
  title: string
  status: number
  error: string
  detail: string
  [extension: string]: unknown
}

/** The body of a `202` deferred response (AAuth -11 "Deferred Responses"). */
export interface PendingBody {
  status: 'pending'
}

/** Server-wide `Accept-Signature-*` values (Signature-Key §4), computed once per snapshot. */
export interface AcceptHeaders {
  schemes: string
  algorithms: string
}

/** Codes whose reply tells the agent which schemes or algorithms we take (Signature-Key §4-5). */
const ACCEPT_HEADERS_FOR: Partial<Record<SignatureErrorCode, 'scheme' | 'alg'>> = {
  unsupported_scheme: 'scheme',
  unsupported_algorithm: 'alg',
}

/**
 * `store_full` answers `temporarily_unavailable`, OAuth's code for a 503 (RFC 6749 §4.1.2.1);
 * `rate_limited` is one revocation issuer over its bound, or an agent over its route's rate
 * limit; `store_unavailable` a state store that failed or was too slow. All carry `Retry-After`
 * (docs/replay-and-revocation.md, docs/state-store.md).
 */
const LOCAL: Record<LocalReason, { status: number; error: string; title: string; decision: Decision }> = {
  route_not_found: { status: 404, error: 'not_found', title: 'Not Found', decision: 'error' },
  method_not_allowed: { status: 405, error: 'method_not_allowed', title: 'Method Not Allowed', decision: 'error' },
  body_too_large: { status: 413, error: 'payload_too_large', title: 'Content Too Large', decision: 'error' },
  bad_request: { status: 400, error: 'invalid_request', title: 'Bad Request', decision: 'error' },
  bad_target: { status: 400, error: 'invalid_request', title: 'Bad Request', decision: 'error' },
  body_timeout: { status: 408, error: 'request_timeout', title: 'Request Timeout', decision: 'error' },
  header_timeout: { status: 408, error: 'request_timeout', title: 'Request Timeout', decision: 'error' },
  headers_too_large: { status: 431, error: 'request_header_fields_too_large', title: 'Request Header Fields Too Large', decision: 'error' },
  unsupported_iss: { status: 403, error: 'unsupported_iss', title: 'Forbidden', decision: 'deny' },
  upstream_unreachable: { status: 502, error: 'bad_gateway', title: 'Bad Gateway', decision: 'error' },
  upstream_timeout: { status: 504, error: 'gateway_timeout', title: 'Gateway Timeout', decision: 'error' },
  store_full: { status: 503, error: 'temporarily_unavailable', title: 'Service Unavailable', decision: 'error' },
  rate_limited: { status: 429, error: 'rate_limited', title: 'Too Many Requests', decision: 'error' },
  store_unavailable: { status: 503, error: 'store_unavailable', title: 'Service Unavailable', decision: 'error' },
  pending_unknown: { status: 404, error: 'not_found', title: 'Not Found', decision: 'error' },
  pending_gone: { status: 410, error: 'gone', title: 'Gone', decision: 'error' },
}

/**
 * The one place that turns a failure into status, headers and a problem+json body. Unknown
 * errors are bugs: a bare 500 whose body says nothing about the cause.
 */
export function renderError(err: unknown, options: RenderOptions): LocalReply {
  const reply = renderBody(err, options)
  if (err instanceof GatewayError) {
    reply.logDetail = err.internal === undefined ? err.message : `${err.message} (${err.internal})`
  } else {
    reply.logDetail = `internal error: ${err instanceof Error ? err.message : String(err)}`
  }
  return reply
}

function renderBody(err: unknown, { accept, policiesVisible }: RenderOptions): LocalReply {
  if (err instanceof SignatureError) return renderSignatureError(err, accept)
  if (err instanceof RequirementError) {
    if (err.pending !== undefined) return renderPending(err, err.pending)
    const headers: Record<string, string> = { 'aauth-requirement': requirementHeader(err.requirement, err.resourceToken) }
    if (err.unsigned) {
      headers['accept-signature-scheme'] = accept.schemes
      headers['accept-signature-alg'] = accept.algorithms
    }
    return reply(401, headers, 'Unauthorized', err.requirement, err.message, 'challenge', err.reason, {
      requirement: err.requirement,
    })
  }
  if (err instanceof PolicyDenied) {
    // With `policies_visible: false` the agent learns only that a policy said no; the decision
    // line keeps the policy, the rule and its file:line for the operator.
    if (!policiesVisible) return reply(403, {}, 'Forbidden', 'access_denied', 'a policy denied this request', 'deny', err.reason)
    return reply(403, {}, 'Forbidden', 'access_denied', err.message, 'deny', err.reason, {
      policy: err.policy,
      rule: err.rule,
    })
  }
  if (err instanceof LocalReplyError) {
    const l = LOCAL[err.reason]
    const headers: Record<string, string> = {}
    if (err.retryAfterSeconds !== undefined) headers['retry-after'] = String(Math.max(1, Math.ceil(err.retryAfterSeconds)))
    if (err.allow !== undefined) headers.allow = err.allow.join(', ')
    return reply(l.status, headers, l.title, l.error, err.message, l.decision, err.reason)
  }
  const reason: ReasonCode = err instanceof GatewayError ? err.reason : 'internal'
  return reply(500, {}, 'Internal Server Error', 'server_error', 'the gateway failed to handle this request', 'error', reason)
}

function renderSignatureError(err: SignatureError, accept: AcceptHeaders): LocalReply {
  const members: Dictionary = new Map([['error', [new Token(err.code), new Map()]]])
  if (err.code === 'invalid_input' && err.requiredInput && err.requiredInput.length > 0) {
    members.set('required_input', [err.requiredInput.map((c) => [c, new Map()]), new Map()])
  }
  const headers: Record<string, string> = { 'signature-error': serializeDictionary(members) }
  const extra = ACCEPT_HEADERS_FOR[err.code]
  if (extra === 'scheme') headers['accept-signature-scheme'] = accept.schemes
  if (extra === 'alg') headers['accept-signature-alg'] = accept.algorithms
  if (err.requirement !== undefined) headers['aauth-requirement'] = requirementHeader(err.requirement)
  const body = err.requiredInput ? { required_input: err.requiredInput } : undefined
  const r = reply(401, headers, 'Unauthorized', err.code, err.message, 'challenge', err.reason, body)
  r.body.type = `urn:ietf:params:sig-error:${err.code}`
  return r
}

/**
 * The deferred form of a requirement (AAuth -11 §6.5.1): `202`, the same `AAuth-Requirement`,
 * `Location` (the pending URL), `Retry-After`, `Cache-Control: no-store`, `{"status":"pending"}`.
 */
function renderPending(err: RequirementError, pending: { location: string; retryAfterSeconds: number }): LocalReply {
  return {
    status: 202,
    headers: {
      'content-type': 'application/json',
      'cache-control': 'no-store',
      location: pending.location,
      'retry-after': String(pending.retryAfterSeconds),
      'aauth-requirement': requirementHeader(err.requirement, err.resourceToken),
    },
    body: { status: 'pending' },
    decision: 'challenge',
    reason: err.reason,
    logDetail: err.message,
  }
}

/** `AAuth-Requirement` is an RFC 8941 Dictionary; its data are parameters on `requirement`. */
function requirementHeader(requirement: Requirement, resourceToken?: string): string {
  const params = new Map<string, string>()
  if (resourceToken !== undefined) params.set('resource-token', resourceToken)
  return serializeDictionary(new Map([['requirement', [new Token(requirement), params]]]))
}

function reply(
  status: number,
  headers: Record<string, string>,
  title: string,
  error: string,
  detail: string,
  decision: Decision,
  reason: ReasonCode,
  extensions: Record<string, unknown> = {},
): LocalReply & { body: ProblemBody } {
  return {
    status,
    headers: { 'content-type': 'application/problem+json', 'cache-control': 'no-store', ...headers },
    body: { type: `urn:aauth-gateway:problem:${error}`, title, status, error, detail, ...extensions },
    decision,
    reason,
    logDetail: detail,
  }
}

/**
 * The error catalog. Three kinds of failure are kept apart (docs/architecture.md "Errors"):
 *  - `ConfigError`: an operator mistake found at load, with file and line;
 *  - `GatewayError` and its subclasses: hostile or unlucky input, answered with a 4xx/5xx
 *    by the one renderer in `src/http/render.ts`;
 *  - anything else: a bug, answered 500 with the stack in the log.
 *
 * Stages never write status codes or `Signature-Error` strings: they throw one of these.
 */

/** Signature-Error codes, draft-hardt-httpbis-signature-key-09 §5 (plus `cache_miss`, unused). */
export const SIGNATURE_ERROR_CODES = [
  'invalid_signature',
  'invalid_input',
  'invalid_request',
  'invalid_key',
  'unknown_key',
  'unsupported_scheme',
  'unsupported_algorithm',
  'issuer_missing',
  'issuer_mismatch',
  'invalid_jwt',
  'expired_jwt',
  'revoked_jwt',
  'clock_skew',
] as const
export type SignatureErrorCode = (typeof SIGNATURE_ERROR_CODES)[number]

/** AAuth-Requirement values the gateway issues (AAuth protocol -11 §6). */
export type Requirement = 'agent-token' | 'person-token' | 'auth-token'

/** Reasons for local replies that are not about identity (see `LocalReplyError`). */
export type LocalReason =
  | 'route_not_found'
  | 'method_not_allowed'
  | 'body_too_large'
  | 'bad_request'
  | 'bad_target'
  | 'body_timeout'
  | 'header_timeout'
  | 'headers_too_large'
  | 'unsupported_iss'
  | 'upstream_unreachable'
  | 'upstream_timeout'
  /** The replay (or revocation) store is full of live entries; see docs/replay-and-revocation.md. */
  | 'store_full'
  /** One revocation issuer is over its bound of live revocations, or an agent over its route's rate limit. */
  | 'rate_limited'
  /** The state store (docs/state-store.md) cannot be reached, or did not answer within `store.timeout`. */
  | 'store_unavailable'
  /** Authorization endpoint (AAuth -11 "Authorization Endpoint Error Responses"): a scope the resource does not publish. */
  | 'invalid_scope'
  /** Authorization endpoint: an `account` the person of the person token does not hold. */
  | 'invalid_account'
  /** Authorization endpoint: the person token is malformed, expired, revoked or not verifiable. */
  | 'invalid_person_token'
  /** A pending URL (AAuth -11 §6.5.1) that does not exist, expired, or belongs to another key. */
  | 'pending_unknown'
  /** A pending URL whose request completed, polled with another auth token (-11 "Deferred Responses": 410). */
  | 'pending_gone'

/**
 * Every reason a request can end without being forwarded. These are the `reason` label values
 * of `aauth_gateway_requests_total` (a closed set, docs/headers-and-errors.md "Reason codes"), so never put data in them.
 */
export type ReasonCode =
  | SignatureErrorCode
  | 'replay'
  | 'digest_mismatch'
  | 'requirement'
  | 'policy_denied'
  | LocalReason
  | StreamEnd
  | 'internal'

/**
 * Ways a request that was already under way ends without a complete answer; they are logged
 * and counted, not rendered (docs/security.md: every request is visible).
 */
export type StreamEnd = 'client_closed' | 'upstream_reset' | 'shutdown'

export abstract class GatewayError extends Error {
  abstract readonly reason: ReasonCode
  /**
   * What only the operator learns, in the decision line's `detail` (README "Metrics and logs"):
   * the issuer that is not trusted, the fetch or upstream error. Never a token or a key.
   */
  internal: string | undefined

  /** Adds operator-only detail: `throw invalidJwt('...').withInternal(\`iss ${iss}\`)`. */
  withInternal(detail: string): this {
    this.internal = detail
    return this
  }
}

/** 401 + `Signature-Error`: the signature or its key material is not acceptable. */
export class SignatureError extends GatewayError {
  override readonly name = 'SignatureError'
  readonly reason: ReasonCode
  constructor(
    readonly code: SignatureErrorCode,
    detail: string,
    options: {
      /** Covered components the request must add (`invalid_input` only). */
      requiredInput?: readonly string[]
      /** A finer metric reason than the wire code, e.g. `replay`. */
      reason?: 'replay' | 'digest_mismatch'
      /** An `AAuth-Requirement` to send alongside, e.g. `person-token` for a revoked auth token. */
      requirement?: Requirement
    } = {},
  ) {
    super(detail)
    this.requiredInput = options.requiredInput
    this.requirement = options.requirement
    this.reason = options.reason ?? code
  }
  readonly requiredInput: readonly string[] | undefined
  readonly requirement: Requirement | undefined
}

/** 401 + `AAuth-Requirement`: valid (or absent) identity, but the route needs more. */
export class RequirementError extends GatewayError {
  override readonly name = 'RequirementError'
  readonly reason = 'requirement' as const
  constructor(
    readonly requirement: Requirement,
    detail: string,
    /** A freshly minted `aa-resource+jwt`, for `requirement=auth-token`. */
    readonly resourceToken?: string,
    /**
     * The request carried no signature: the reply also says which schemes and algorithms to
     * sign with (`Accept-Signature-*`, Signature-Key draft §4.4). A signed request already knows.
     */
    readonly unsigned = false,
  ) {
    super(detail)
  }

  /**
   * The pending URL when the requirement is delivered deferred (AAuth -11 §6.5.1): answered
   * `202` with `Location`, `Retry-After` and `Cache-Control: no-store` instead of `401`.
   */
  pending: { location: string; retryAfterSeconds: number } | undefined

  deferTo(location: string, retryAfterSeconds: number): this {
    this.pending = { location, retryAfterSeconds }
    return this
  }
}

/** 403: authenticated, but the route's policy said no. Carries no Signature-Error. */
export class PolicyDenied extends GatewayError {
  override readonly name = 'PolicyDenied'
  readonly reason = 'policy_denied' as const
  constructor(
    readonly policy: string,
    /** The rule that decided, as written in the policy file, or a summary. */
    readonly rule: string,
    detail: string,
  ) {
    super(detail)
  }
}

/** Local replies that are not about identity: 400, 403 (revocation), 404, 405, 413, 429, 502, 503, 504. */
export class LocalReplyError extends GatewayError {
  override readonly name = 'LocalReplyError'
  /** Seconds the client should wait before trying again (`Retry-After`, RFC 9110 §10.2.3), for 429 and 503. */
  readonly retryAfterSeconds: number | undefined
  /** The methods the target does take, for a 405's `Allow` (RFC 9110 §15.5.6, §10.2.1). */
  readonly allow: readonly string[] | undefined
  constructor(
    readonly reason: LocalReason,
    detail: string,
    options: { retryAfterSeconds?: number; allow?: readonly string[] } = {},
  ) {
    super(detail)
    this.retryAfterSeconds = options.retryAfterSeconds
    this.allow = options.allow
  }
}

/**
 * 503 `store_unavailable`: a store operation failed or took longer than `store.timeout`
 * (docs/state-store.md "When the store fails"). Its own class so that `store.fail_open` can tell
 * it from every other refusal.
 */
export class StoreUnavailableError extends LocalReplyError {
  constructor(detail: string, retryAfterSeconds: number) {
    super('store_unavailable', detail, { retryAfterSeconds })
  }
}

/** An operator mistake in the config or a policy file, found at load time. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError'
  constructor(readonly problems: readonly ConfigProblem[]) {
    super(problems.map(formatProblem).join('\n'))
  }
}

export interface ConfigProblem {
  file: string
  /** 1-based; 0 when the problem has no position (e.g. a missing file). */
  line: number
  /** Dotted path of the key, e.g. `routes.0.access`; empty for the whole document. */
  key: string
  message: string
}

export function formatProblem(p: ConfigProblem): string {
  const where = p.line > 0 ? `${p.file}:${p.line}` : p.file
  return `${where}: ${p.key ? `${p.key}: ` : ''}${p.message}`
}

import { createHash, randomBytes } from 'node:crypto'
import type { ExpiringKeyStore } from '../store/types.js'

/**
 * Session tokens (AAuth -11 "AAuth-Access Response Header"): what the gateway issues when it
 * grants scopes itself at its authorization endpoint, and checks on `session-token` routes.
 *
 * The value is `base64url(JSON state) "." base64url(16 random bytes)`, a token68 (RFC 9110
 * §11.2). It is opaque to the agent (the draft says so) but not secret to it: what makes it
 * valid is that the gateway remembered a SHA-256 of the whole value in the state store
 * (docs/state-store.md) for the session's lifetime, so any change to it, or a value the gateway
 * never issued, is unknown; and every instance and worker sharing the store knows it. The store
 * holds only the hash; the state travels with the token, so no store operation beyond
 * `remember`/`has` is needed. A session is bound to the key that signed the request that
 * obtained it (`jkt`) and to the person of that request's person token (`iss`, `sub`).
 */
export interface SessionState {
  /** The person server that issued the person token (its `iss`). */
  readonly iss: string
  /** The person (`sub` of the person token). */
  readonly sub: string
  /** RFC 7638 thumbprint of the agent's signing key. */
  readonly jkt: string
  readonly scope: readonly string[]
  /** The `account` the agent asked for, when it named one. */
  readonly account?: string
  /** Expiry, seconds since the epoch. */
  readonly exp: number
}

/** Store keys of sessions: a prefix no replay entry (`<thumbprint> <hash>`) can start with. */
const PREFIX = 'session:'

/** A token68 value (RFC 9110 §11.2). */
const TOKEN68 = /^[A-Za-z0-9\-._~+/]+=*$/

function storeKey(token: string): string {
  return PREFIX + createHash('sha256').update(token).digest('base64url')
}

/**
 * Issues a session token for `state` and records it in `store` until `state.exp`. Resolves
 * `undefined` when the store is full of live entries (the caller answers 503).
 */
export async function issueSession(store: ExpiringKeyStore, state: SessionState, nowSeconds: number): Promise<string | undefined> {
  const token = `${Buffer.from(JSON.stringify(state)).toString('base64url')}.${randomBytes(16).toString('base64url')}`
  const remembered = await store.remember(storeKey(token), Math.max(1, state.exp - nowSeconds))
  return remembered.outcome === 'full' ? undefined : token
}

/** Why a presented session token is not accepted. */
export type SessionRefusal = 'malformed' | 'unknown' | 'expired' | 'other_key'

/**
 * Checks a session token presented in `Authorization: AAuth <token68>` by a request signed with
 * the key of thumbprint `jkt`. The expiry is judged on `nowSeconds` (the gateway's clock) as well
 * as by the store's TTL, so a store that keeps an entry a little longer never extends a session.
 */
export async function checkSession(
  store: ExpiringKeyStore,
  token: string,
  jkt: string,
  nowSeconds: number,
): Promise<SessionState | SessionRefusal> {
  if (!TOKEN68.test(token)) return 'malformed'
  const state = decodeState(token)
  if (state === undefined) return 'unknown'
  if (state.exp <= nowSeconds) return 'expired'
  if (!(await store.has(storeKey(token)))) return 'unknown'
  if (state.jkt !== jkt) return 'other_key'
  return state
}

function decodeState(token: string): SessionState | undefined {
  const dot = token.indexOf('.')
  if (dot <= 0) return undefined
  try {
    const parsed = JSON.parse(Buffer.from(token.slice(0, dot), 'base64url').toString('utf8')) as Partial<SessionState>
    const { iss, sub, jkt, scope, exp, account } = parsed
    if (typeof iss !== 'string' || typeof sub !== 'string' || typeof jkt !== 'string' || typeof exp !== 'number') return undefined
    if (!Array.isArray(scope) || !scope.every((s): s is string => typeof s === 'string')) return undefined
    if (account !== undefined && typeof account !== 'string') return undefined
    return { iss, sub, jkt, scope, exp, ...(account === undefined ? {} : { account }) }
  } catch {
    return undefined
  }
}

/**
 * The credential of an `Authorization` field that uses the `AAuth` scheme (RFC 9110 §11.4):
 * `undefined` when the field names no AAuth credential, `null` when it does but the value is not
 * exactly one token68 (empty, with whitespace or control characters, or beside another
 * credential: AAuth -11 says recipients MUST reject these).
 */
export function aauthCredential(field: string | undefined): string | undefined | null {
  if (field === undefined || !/(^|,)\s*aauth(\s|,|$)/i.test(field)) return undefined
  const match = /^\s*aauth ([^\s,]+)\s*$/i.exec(field)
  if (match === null) return null
  return TOKEN68.test(match[1] as string) ? (match[1] as string) : null
}

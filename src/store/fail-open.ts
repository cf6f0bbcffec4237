import { StoreUnavailableError } from '../errors.js'
import type { FailOpenOp } from '../metrics/metrics.js'
import type { ExpiringKeyStore, Remembered } from '../replay/store.js'
import type { RateDecision, StateStore } from './types.js'

const ADDED: Remembered = Object.freeze({ outcome: 'added' })

/**
 * `store.fail_open: true` (docs/state-store.md "fail_open: the trade-off"): while the store is
 * down, a signed request is let through as if its signature were new, its token not revoked
 * beyond what this instance already knows, and its rate limit not reached; each such pass is
 * reported to `onFailOpen` (`aauth_gateway_store_fail_open_total{op}`). Recording a revocation
 * never fails open: the issuer is told 503 and retries. Wraps any `StateStore`.
 */
export function failOpen(store: StateStore, onFailOpen: (op: FailOpenOp) => void): StateStore {
  const recover = <T>(result: T | Promise<T>, op: FailOpenOp, fallback: T): T | Promise<T> => {
    if (!(result instanceof Promise)) return result
    return result.catch((err: unknown) => {
      if (!(err instanceof StoreUnavailableError)) throw err
      onFailOpen(op)
      return fallback
    })
  }
  const replay: ExpiringKeyStore = {
    remember: (key, ttlSeconds, group) => recover(store.replay.remember(key, ttlSeconds, group), 'replay', ADDED),
    has: (key) => store.replay.has(key),
  }
  const revoked: ExpiringKeyStore = {
    remember: (key, ttlSeconds, group) => store.revoked.remember(key, ttlSeconds, group),
    // The store answers "revoked" from its local copy whenever it can; only a token the copy
    // does not hold asks the store, so failing open here means "not revoked as far as known".
    has: (key) => recover(store.revoked.has(key), 'revocation_check', false),
  }
  return {
    replay,
    revoked,
    rates: {
      hit: (key, limit, windowSeconds) =>
        recover<RateDecision>(store.rates.hit(key, limit, windowSeconds), 'rate_limit', { allowed: true, remaining: limit, resetSeconds: windowSeconds, failedOpen: true }),
    },
    // A pending request is not a check that can be skipped: a store that is down answers 503.
    ...(store.pending === undefined ? {} : { pending: store.pending }),
    get up() {
      return store.up
    },
    close: () => store.close(),
  }
}

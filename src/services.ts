import type { GatewayMetrics } from './metrics/metrics.js'
import type { StateStore } from './store/types.js'
import type { KeyServices } from './keys/types.js'
import type { DecisionLog } from './log/decision.js'
import type { OpsLog } from './log/logger.js'

/**
 * The long-lived parts that outlive a config snapshot: caches keep their keys across reloads,
 * metrics keep counting. Passed to every request through its context, never held globally.
 */
export interface GatewayServices {
  readonly metrics: GatewayMetrics
  /**
   * What instances share (docs/state-store.md): signatures seen within the window, revoked
   * `(iss, jti)` pairs until their `exp` (AAuth -11 §11.12), and rate-limit counters.
   */
  readonly store: StateStore
  readonly keys: KeyServices
  /** One line per request (src/log/decision.ts). */
  readonly log: DecisionLog
  /** Operational lines: errors, warnings, reloads (src/log/logger.ts). */
  readonly logger: OpsLog
  readonly lifecycle: Lifecycle
  /**
   * The wall clock in milliseconds, for what the gateway issues and checks itself (session
   * tokens, docs/protocol.md "Resource-managed access"); `Date.now` unless a test injects one.
   */
  readonly clock?: () => number
}

/** Where the listener is in its life (docs/operations.md): set by shutdown, read per request. */
export interface Lifecycle {
  /** SIGTERM arrived: `/readyz` says 503 and answers close their connections. */
  draining: boolean
  /** The drain deadline passed and connections are being closed: cut requests say `shutdown`. */
  cutting: boolean
}

import type { OpsLog } from '../log/logger.js'

/**
 * Whether the state store is up, and the two log lines of an outage (docs/state-store.md "When
 * the store fails"): one at warn when it starts, one at info when it ends, never one per
 * request. A failed operation or health check starts an outage at once; only a health check
 * ends it, and only when no operation failed for `quietMs` since, so a store that answers some
 * calls and times out on others does not flap (each flap would be two log lines and a
 * `/readyz` bounce).
 */
export class Outage {
  #up = false
  /** Whether any check has run: the first success at start is not "the end of an outage". */
  #known = false
  #startedAt = 0
  #lastFailureAt = Number.NEGATIVE_INFINITY
  #failures = 0

  constructor(
    /** The store as an operator knows it, without credentials (e.g. `redis://10.0.0.5:6379/0`). */
    private readonly name: string,
    private readonly quietMs: number,
    private readonly log: Pick<OpsLog, 'warn' | 'info'>,
    private readonly onChange: (up: boolean) => void,
    private readonly now: () => number = () => performance.now(),
  ) {}

  get up(): boolean {
    return this.#up
  }

  /**
   * An operation or health check failed, or a connection dropped (`operation` false), for
   * `reason` (an error message, never a secret).
   */
  failed(reason: string, operation = true): void {
    const now = this.now()
    this.#lastFailureAt = now
    if (operation) this.#failures++
    if (!this.#up && this.#known) return
    this.#up = false
    this.#known = true
    this.#startedAt = now
    this.#failures = operation ? 1 : 0
    this.log.warn(
      { store: this.name, reason },
      `state store ${this.name} is down (${reason}); signed requests get 503 store_unavailable and /readyz 503 until it answers again`,
    )
    this.onChange(false)
  }

  /** A health check succeeded. */
  healthy(): void {
    if (this.#up) return
    const now = this.now()
    if (now - this.#lastFailureAt < this.quietMs) return
    this.#up = true
    if (this.#known) {
      const seconds = ((now - this.#startedAt) / 1000).toFixed(1)
      this.log.info(
        { store: this.name, outage_seconds: Number(seconds), failed_operations: this.#failures },
        `state store ${this.name} is back after ${seconds} s (${this.#failures} failed operations meanwhile)`,
      )
    }
    this.#known = true
    this.onChange(true)
  }
}

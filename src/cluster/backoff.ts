export interface RestartBackoffOptions {
  /** Delay before the first restart, in ms (default 100). */
  initialMs?: number
  /** The delay doubles after each restart up to this (default 10 000). */
  maxMs?: number
  /** A worker that stayed up this long (ms) was healthy: the next restart waits `initialMs` again (default 10 000). */
  stableMs?: number
}

/**
 * How long the primary waits before starting a worker again (docs/scaling.md): soon after a
 * one-off crash, so capacity comes back at once, and ever later while a worker keeps dying
 * young (a config edited into one that no longer loads, a dependency that crashes it at once), so
 * a crash loop does not spin a core.
 * One per worker slot: one slot's crash loop does not slow the restart of another.
 */
export class RestartBackoff {
  private readonly initialMs: number
  private readonly maxMs: number
  private readonly stableMs: number
  private delayMs: number

  constructor(options: RestartBackoffOptions = {}) {
    this.initialMs = options.initialMs ?? 100
    this.maxMs = options.maxMs ?? 10_000
    this.stableMs = options.stableMs ?? 10_000
    this.delayMs = this.initialMs
  }

  /** The delay before starting again a worker that exited after `uptimeMs`. */
  next(uptimeMs: number): number {
    if (uptimeMs >= this.stableMs) this.delayMs = this.initialMs
    const delay = this.delayMs
    this.delayMs = Math.min(this.maxMs, this.delayMs * 2)
    return delay
  }
}

import { eventually } from './eventually.js'

/**
 * Polls `condition` until it holds or `timeoutMs` passes; rejects with `what` on timeout. For
 * effects that happen after a response was read (a decision line, a backend's close event).
 */
export function waitFor(condition: () => boolean, what: string, timeoutMs = 3000): Promise<void> {
  return eventually(what, condition, { timeoutMs, intervalMs: 10 })
}

/** Milliseconds since `start` (from `performance.now()`). */
export function since(start: number): number {
  return performance.now() - start
}

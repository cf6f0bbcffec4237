import type { Writable } from 'node:stream'

/** One line per request (issue: decision log). Identity names only: never a token or a key. */
export interface DecisionEntry {
  time: string
  route: string
  method: string
  path: string
  status: number
  decision: string
  reason: string
  level: string
  scheme: string
  agent: string
  delegate: string
  user: string
  policy: string
  rule: string
  /** `file:line` of the rule that decided. */
  rule_at: string
  mode: string
  latency_ms: number
}

export interface DecisionLog {
  write(entry: DecisionEntry): void
  /** Writes anything buffered (called when the gateway closes). */
  flush?(): void
}

/**
 * Writes JSON lines to a stream (stdout by default), which log shippers pick up as they are.
 * Lines are batched and written once per event-loop turn: under load that is one write (a
 * syscall when stdout is a file or pipe) for many requests instead of one each.
 */
export class JsonLineLog implements DecisionLog {
  private pending: string[] = []

  constructor(private readonly out: Writable) {}

  write(entry: DecisionEntry): void {
    if (this.pending.length === 0) setImmediate(() => this.flush())
    this.pending.push(JSON.stringify(entry))
  }

  /** Writes what is pending now (also called on shutdown). */
  flush(): void {
    if (this.pending.length === 0) return
    const text = this.pending.join('\n') + '\n'
    this.pending = []
    this.out.write(text)
  }
}

export const silentLog: DecisionLog = { write: () => undefined }

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
}

/** Writes JSON lines to a stream (stdout by default), which log shippers pick up as they are. */
export class JsonLineLog implements DecisionLog {
  constructor(private readonly out: Writable) {}
  write(entry: DecisionEntry): void {
    this.out.write(JSON.stringify(entry) + '\n')
  }
}

export const silentLog: DecisionLog = { write: () => undefined }

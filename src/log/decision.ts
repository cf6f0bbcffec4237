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

export interface JsonLineLogOptions {
  /**
   * Members written first on every line, e.g. `{ worker: pid }` from a cluster worker, so lines
   * from several processes on one stdout can be told apart (docs/scaling.md).
   */
  fields?: Readonly<Record<string, string | number>>
  /**
   * Most bytes per write, cut at line ends. Several processes writing to one pipe (cluster
   * workers sharing the primary's stdout) must keep each write within PIPE_BUF (4096 on Linux),
   * which POSIX makes atomic, or a line of one could be split by a line of another.
   */
  maxWriteBytes?: number
}

/**
 * Writes JSON lines to a stream (stdout by default), which log shippers pick up as they are.
 * Lines are batched and written once per event-loop turn: under load that is one write (a
 * syscall when stdout is a file or pipe) for many requests instead of one each.
 */
export class JsonLineLog implements DecisionLog {
  private pending: string[] = []
  /** `{"worker":123,` when fields are given: put in place of each line's opening brace. */
  private readonly prefix: string | undefined
  private readonly maxWriteBytes: number

  constructor(
    private readonly out: Writable,
    options: JsonLineLogOptions = {},
  ) {
    const fields = options.fields === undefined ? '' : JSON.stringify(options.fields).slice(1, -1)
    this.prefix = fields === '' ? undefined : `{${fields},`
    this.maxWriteBytes = options.maxWriteBytes ?? Number.POSITIVE_INFINITY
  }

  write(entry: DecisionEntry): void {
    if (this.pending.length === 0) setImmediate(() => this.flush())
    const line = JSON.stringify(entry)
    this.pending.push(this.prefix === undefined ? line : this.prefix + line.slice(1))
  }

  /** Writes what is pending now (also called on shutdown). */
  flush(): void {
    if (this.pending.length === 0) return
    const lines = this.pending
    this.pending = []
    if (this.maxWriteBytes === Number.POSITIVE_INFINITY) {
      this.out.write(lines.join('\n') + '\n')
      return
    }
    let chunk = ''
    let bytes = 0
    for (const line of lines) {
      const size = Buffer.byteLength(line) + 1
      if (bytes > 0 && bytes + size > this.maxWriteBytes) {
        this.out.write(chunk)
        chunk = ''
        bytes = 0
      }
      chunk += line + '\n'
      bytes += size
    }
    if (chunk !== '') this.out.write(chunk)
  }
}

export const silentLog: DecisionLog = { write: () => undefined }

import type { Logger } from 'pino'

/**
 * One line per request (README "Metrics and logs"). Identity names only: never a token, a key
 * or a signature. `time`, `level` (`info`) and `msg` (`request`) are added by the logger.
 */
export interface DecisionEntry {
  /** The `X-Request-Id` the client and the upstream saw. */
  request_id: string
  route: string
  method: string
  path: string
  status: number
  decision: string
  reason: string
  /** The identity level the request proved (`none`, `pseudonymous`, ...): `level` is the log level. */
  aauth_level: string
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
  /**
   * Why the request was not let through, with what only the operator may learn (the issuer
   * that is not trusted, the fetch error, the upstream's error); empty when it was forwarded.
   */
  detail: string
}

export interface DecisionLog {
  write(entry: DecisionEntry): void
  /** Writes anything buffered (called when the gateway closes). */
  flush?(): void
}

/** The message of every decision line, so a pipeline can tell them from operational lines. */
export const DECISION_MESSAGE = 'request'

/**
 * Decision lines as `info` lines of a pino logger (src/log/logger.ts), on stdout by default.
 * The logger's destination batches writes; at `log.level: warn` or above nothing is written.
 */
export class LoggerDecisionLog implements DecisionLog {
  constructor(
    private readonly logger: Logger,
    /** Members added to every line, e.g. `{ worker: pid }` in a cluster worker (docs/scaling.md). */
    private readonly fields?: Readonly<Record<string, string | number>>,
  ) {}

  write(entry: DecisionEntry): void {
    this.logger.info(this.fields === undefined ? entry : { ...this.fields, ...entry }, DECISION_MESSAGE)
  }

  flush(): void {
    this.logger.flush()
  }
}


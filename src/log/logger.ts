import { pino, type DestinationStream, type Logger } from 'pino'
import { ConfigError } from '../errors.js'
import { prettyLine, prettyLines } from './pretty.js'

/** `log.level` (README "Metrics and logs"): decision lines are `info`, so `warn` silences them. */
export const LOG_LEVELS = ['debug', 'info', 'warn', 'error'] as const
export type LogLevel = (typeof LOG_LEVELS)[number]

/** `log.format`: JSON lines for shippers, or a short human form for a terminal. */
export const LOG_FORMATS = ['json', 'pretty'] as const
export type LogFormat = (typeof LOG_FORMATS)[number]

export interface LogSettings {
  readonly level: LogLevel
  readonly format: LogFormat
}

export const DEFAULT_LOG_SETTINGS: LogSettings = Object.freeze({ level: 'info', format: 'json' })

/**
 * What modules that report operational events need of a logger: pino's `Logger` fits, and so
 * does a test's recorder. Fields first, then the message, as pino takes them.
 */
export interface OpsLog {
  debug(fields: object, msg: string): void
  info(fields: object, msg: string): void
  warn(fields: object, msg: string): void
  error(fields: object, msg: string): void
}

/**
 * Header names that must never reach a log line, in any object an operational line carries
 * (`req.headers`, `headers`, an error's `headers`): the gateway logs no headers today, and
 * this keeps a future `logger.error({ req })` from writing a token or a signature.
 */
const SECRET_HEADERS = ['authorization', 'signature', '"signature-input"', '"signature-key"', 'cookie', '"proxy-authorization"']
const REDACTED_PATHS = ['req.headers', 'headers', 'err.headers', 'request.headers'].flatMap((at) =>
  SECRET_HEADERS.map((h) => (h.startsWith('"') ? `${at}[${h}]` : `${at}.${h}`)),
)

/**
 * `LOG_LEVEL` from the environment, which takes precedence over `log.level` (so an operator can
 * turn on `debug` without editing the config); undefined when unset. Throws ConfigError for a
 * value that is not a level.
 */
export function levelFromEnv(env: NodeJS.ProcessEnv): LogLevel | undefined {
  const value = env.LOG_LEVEL?.trim().toLowerCase()
  if (value === undefined || value === '') return undefined
  if (!(LOG_LEVELS as readonly string[]).includes(value)) {
    throw new ConfigError([{ file: 'LOG_LEVEL', line: 0, key: '', message: `expected one of ${LOG_LEVELS.join(', ')}, got "${env.LOG_LEVEL}"` }])
  }
  return value as LogLevel
}

/**
 * A pino logger writing JSON lines with the fields log pipelines expect: `level` as its name
 * (`"info"`, not pino's number), `time` in ISO 8601 UTC, `msg`, plus `pid` and `hostname`.
 * `redact` removes secret headers wherever an operational line could carry them; decision
 * lines have a fixed set of fields (src/log/decision.ts) and skip that cost.
 */
export function createLogger(settings: LogSettings, destination: DestinationStream, options: { redact?: boolean } = {}): Logger {
  return pino(
    {
      level: settings.level,
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      ...(options.redact === false ? {} : { redact: { paths: REDACTED_PATHS, censor: '[redacted]' } }),
    },
    settings.format === 'pretty' ? prettyLines(destination) : destination,
  )
}

const standard = new Map<1 | 2, DestinationStream>()

/**
 * stdout (1) or stderr (2) as a pino destination, one per descriptor and process (they are the
 * process's own streams). Asynchronous: while one write is in flight the next lines gather in a
 * buffer and go out in one write, so a busy gateway makes one syscall for many lines; pino
 * flushes what is left when the process exits. Writes are capped at 4096 bytes and cut at line
 * ends: POSIX makes a pipe write of up to PIPE_BUF (4096 on Linux) atomic, so several processes
 * sharing one pipe never interleave inside a line.
 */
export function standardDestination(fd: 1 | 2): DestinationStream {
  let dest = standard.get(fd)
  if (dest === undefined) standard.set(fd, (dest = pino.destination({ dest: fd, sync: false, maxWrite: 4096 })))
  return dest
}

/** Where a gateway's two logs go: operational lines to stderr, decision lines to stdout by default. */
export interface LogDestinations {
  operational?: DestinationStream
  decisions?: DestinationStream
}

/**
 * A gateway's loggers (README "Metrics and logs"): `ops` for operational lines (start, reload,
 * warnings, errors) and `decisions` for the one line per request, kept on separate streams as
 * Envoy keeps its application log apart from its access log. Made before the config is read,
 * so a failing first load can still be logged; `configure` then applies the config's `log`
 * section: `level` on every reload (unless `LOG_LEVEL` pins it), `format` once, at start.
 */
export class GatewayLogs {
  readonly ops: Logger
  readonly decisions: Logger
  readonly #pinned: LogLevel | undefined
  #pretty = false
  #configured = false

  /** Throws ConfigError when `LOG_LEVEL` is not a level. */
  constructor(env: NodeJS.ProcessEnv, destinations: LogDestinations = {}) {
    this.#pinned = levelFromEnv(env)
    const settings: LogSettings = { level: this.#pinned ?? DEFAULT_LOG_SETTINGS.level, format: 'json' }
    this.ops = createLogger(settings, this.#formatted(destinations.operational ?? standardDestination(2)))
    this.decisions = createLogger(settings, this.#formatted(destinations.decisions ?? standardDestination(1)), { redact: false })
  }

  configure(settings: LogSettings): void {
    if (!this.#configured) this.#pretty = settings.format === 'pretty'
    this.#configured = true
    const level = this.#pinned ?? settings.level
    this.ops.level = level
    this.decisions.level = level
  }

  /** Writes what is buffered (on close). */
  flush(): void {
    this.ops.flush()
    this.decisions.flush()
  }

  #formatted(out: DestinationStream): DestinationStream {
    return { write: (line: string) => void out.write(this.#pretty ? prettyLine(line) : line) }
  }
}

import { parseArgs, type ParseArgsConfig } from 'node:util'

/** The options a command declares, in `node:util.parseArgs` form. */
export type CommandOptions = NonNullable<ParseArgsConfig['options']>

/** What `parseArgs` gives a command with options `O` under strict parsing. */
export type ParsedCommandArgs<O extends CommandOptions> = ReturnType<
  typeof parseArgs<{ options: O; strict: true; allowPositionals: true }>
>

/** A usage error: exit 2, the message and the command's usage on stderr. */
export class UsageError extends Error {
  override readonly name = 'UsageError'
}

/**
 * One `aauth-gateway <name>` command. Its arguments are parsed strictly by `node:util.parseArgs`
 * (README "Quick start"): an unknown flag, a missing value or an extra positional is a usage
 * error that names it (exit 2), and `--help` prints `usage` and `help` and starts nothing.
 */
export interface Command<O extends CommandOptions = CommandOptions> {
  readonly name: string
  /** One line for `aauth-gateway help`. */
  readonly summary: string
  /** The synopsis, e.g. `aauth-gateway check [--config FILE]`. */
  readonly usage: string
  /** What each option does, printed under the usage by `--help`. */
  readonly help: string
  readonly options: O
  /** How many positionals the command takes (default 0). */
  readonly positionals?: { readonly min?: number; readonly max: number }
  /** Resolves the exit code (0 ok, 1 failure, 2 usage); `serve` resolves only when it stops. */
  run(args: ParsedCommandArgs<O>): Promise<number>
}

/** Declares a command with its option types inferred from `options`. */
export function defineCommand<const O extends CommandOptions>(command: Command<O>): Command<O> {
  return command
}

/** The text `--help` prints. */
export function commandHelp(command: Command): string {
  return `usage: ${command.usage}\n\n${command.summary}\n${command.help ? `\n${command.help.trimEnd()}\n` : ''}`
}

/**
 * Parses `argv` for `command`; throws UsageError with a message that names the flag or argument
 * at fault. `--help`/`-h` is recognised by the caller before this runs.
 */
export function parseCommandArgs<O extends CommandOptions>(command: Command<O>, argv: string[]): ParsedCommandArgs<O> {
  let parsed: ParsedCommandArgs<O>
  try {
    parsed = parseArgs({ args: argv, options: command.options, strict: true, allowPositionals: true })
  } catch (err) {
    // Node's messages name the flag ("Unknown option '--confg'. To specify a positional...");
    // the first sentence is the part a user needs.
    const message = err instanceof Error ? err.message : String(err)
    throw new UsageError(message.split(/\.\s/)[0] ?? message)
  }
  const { min = 0, max } = command.positionals ?? { max: 0 }
  const count = parsed.positionals.length
  if (count > max) throw new UsageError(`unexpected argument '${parsed.positionals[max]}'`)
  if (count < min) throw new UsageError(`missing argument (see --help)`)
  return parsed
}

/** Whether `argv` asks for help: `--help` or `-h` before any `--`. */
export function wantsHelp(argv: readonly string[]): boolean {
  for (const arg of argv) {
    if (arg === '--') return false
    if (arg === '--help' || arg === '-h') return true
  }
  return false
}

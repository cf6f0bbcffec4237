import { commandHelp, parseCommandArgs, UsageError, wantsHelp, type Command } from './command.js'
import { COMMANDS } from './commands.js'
import { VERSION } from '../version.js'

function overview(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length))
  const lines = COMMANDS.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`)
  return `usage: aauth-gateway <command> [options]\n\ncommands:\n${lines.join('\n')}\n  ${'help'.padEnd(width)}  show this list, or a command's options: help <command>\n\n'aauth-gateway <command> --help' shows a command's options; --version prints the version.\n`
}

function find(name: string): Command | undefined {
  return COMMANDS.find((c) => c.name === name)
}

/** Runs one command; resolves the exit code (serve resolves only when it stops). */
export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv
  if (name === undefined) {
    process.stderr.write(overview())
    return 2
  }
  if (name === '--version' || name === '-v' || name === 'version') {
    process.stdout.write(`aauth-gateway ${VERSION}\n`)
    return 0
  }
  if (name === 'help' || name === '--help' || name === '-h') {
    const topic = name === 'help' ? rest[0] : undefined
    const command = topic === undefined ? undefined : find(topic)
    if (topic !== undefined && command === undefined) {
      process.stderr.write(`aauth-gateway: unknown command '${topic}'\n\n${overview()}`)
      return 2
    }
    process.stdout.write(command ? commandHelp(command) : overview())
    return 0
  }
  const command = find(name)
  if (command === undefined) {
    process.stderr.write(`aauth-gateway: unknown command '${name}'\n\n${overview()}`)
    return 2
  }
  if (wantsHelp(rest)) {
    process.stdout.write(commandHelp(command))
    return 0
  }
  try {
    return await command.run(parseCommandArgs(command, rest))
  } catch (err) {
    if (!(err instanceof UsageError)) throw err
    process.stderr.write(`aauth-gateway ${command.name}: ${err.message}\n\nusage: ${command.usage}\n`)
    return 2
  }
}

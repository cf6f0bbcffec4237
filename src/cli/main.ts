import { checkCommand } from './check.js'
import { serveCommand } from './serve.js'

const USAGE = `usage: aauth-gateway <command> [options]

commands:
  serve --config FILE [--echo-backend HOST:PORT]   run the gateway
  check --config FILE                              validate the config and compile every policy
  test-policies [DIR]                              run the policy test cases beside the policies
  keygen [--alg Ed25519|ES256] [--kid ID] [--out FILE]   write a resource signing key (private JWK)
  demo                                             run the agent-delegation flow end to end on loopback
`

type Command = (args: string[]) => Promise<number>

const COMMANDS: Record<string, Command> = {
  serve: serveCommand,
  check: checkCommand,
  'test-policies': async (args) => (await import('./test-policies.js')).testPoliciesCommand(args, process.stdout),
  keygen: async (args) => (await import('./keygen.js')).keygenCommand(args),
  demo: async (args) => (await import('./demo.js')).demoCommand(args),
}

/** Runs one command; resolves the exit code (serve resolves only when it stops). */
export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv
  const command = name === undefined ? undefined : COMMANDS[name]
  if (command === undefined) {
    process.stderr.write(name === undefined || name === '--help' || name === '-h' ? USAGE : `unknown command "${name}"\n\n${USAGE}`)
    return name === '--help' || name === '-h' ? 0 : 2
  }
  return command(rest)
}

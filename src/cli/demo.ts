import { runDemo } from '../demo/run.js'

/**
 * `aauth-gateway demo` (src/cli/commands.ts): starts an agent server, a person server, an echo
 * backend and the gateway on loopback, runs the agent-delegation flow end to end (src/demo/) and
 * prints each exchange. Exit 0 when every step passed, 1 otherwise.
 */
export async function demo(): Promise<number> {
  const { passed } = await runDemo()
  return passed ? 0 : 1
}

import { runDemo } from '../demo/run.js'

/**
 * `aauth-gateway demo`: starts an agent server, a person server, an echo backend and the gateway
 * on loopback, runs the agent-delegation flow end to end (src/demo/) and prints each exchange.
 * Exit 0 when every step passed, 1 otherwise.
 */
export async function demoCommand(_args: string[]): Promise<number> {
  const { passed } = await runDemo()
  return passed ? 0 : 1
}

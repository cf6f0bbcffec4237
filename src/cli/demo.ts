/** `aauth-gateway demo`: the agent-delegation flow end to end on loopback (see src/demo/). */
export async function demoCommand(_args: string[]): Promise<number> {
  process.stderr.write('demo: not available yet\n')
  return 1
}

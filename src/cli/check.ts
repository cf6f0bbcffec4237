import { buildSnapshot } from '../config/compile.js'
import { ConfigError } from '../errors.js'
import { option } from './option.js'

/** `aauth-gateway check --config FILE`: exit 0, or every error with file, line and what is wrong. */
export async function checkCommand(args: string[]): Promise<number> {
  const file = option(args, 'config') ?? 'config/gateway.yaml'
  try {
    const s = await buildSnapshot(file)
    process.stdout.write(`${file}: ok (${s.routeNames.length} routes, ${s.policies.size} policies)\n`)
    return 0
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err
    process.stderr.write(err.message + '\n')
    process.stderr.write(`${err.problems.length} error${err.problems.length === 1 ? '' : 's'}\n`)
    return 1
  }
}

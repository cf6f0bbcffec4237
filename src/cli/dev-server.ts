import { loadOrCreateKeyFile, type DevKey } from '../devkit/keys.js'
import { UsageError } from './command.js'

/** What `agent-server` and `person-server` share: a devkit server run as a process (README "Quick start"). */
export interface DevServerProcess {
  /** The command's name, for messages. */
  readonly command: string
  /** `--listen`, checked to be HOST:PORT. */
  readonly listen: string
  /** `--key`, created (0600) when missing, so a restart keeps the identity a gateway trusts. */
  readonly keyFile: string
  /** The `kid` a created key gets. */
  readonly kid: string
}

interface Running {
  readonly origin: string
  close(): Promise<void>
}

export function checkListen(listen: string): void {
  if (!/^(\[[0-9a-fA-F:.]+\]|[^:\s]+):\d{1,5}$/.test(listen)) throw new UsageError(`--listen '${listen}' is not HOST:PORT`)
}

export function checkOrigin(flag: string, value: string): void {
  if (!/^https?:\/\/[^/\s]+$/.test(value)) throw new UsageError(`${flag} '${value}' is not an origin (scheme://host[:port], no path)`)
}

/**
 * Loads or creates the key, starts the server with it, prints `banner(server, created)` and the
 * `trust` lines for `role`, then serves until SIGINT/SIGTERM. Resolves the exit code: 1 when
 * the key cannot be read or the address cannot be listened on, 0 once stopped by a signal.
 */
export async function runDevServer<S extends Running>(
  spec: DevServerProcess,
  start: (key: DevKey) => Promise<S>,
  describe: (server: S, key: { file: string; created: boolean; kid: string }) => string[],
  role: 'agent_providers' | 'person_servers',
): Promise<number> {
  checkListen(spec.listen)
  let loaded
  try {
    loaded = loadOrCreateKeyFile(spec.keyFile, spec.kid)
  } catch (err) {
    process.stderr.write(`${spec.command}: --key ${spec.keyFile}: ${(err as Error).message}\n`)
    return 1
  }
  let server: S
  try {
    server = await start(loaded.key)
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code
    const why = code === 'EADDRINUSE' ? `the port is in use (another ${spec.command}?); pick another with --listen` : (err as Error).message
    process.stderr.write(`${spec.command}: cannot listen on ${spec.listen}: ${why}\n`)
    return 1
  }
  const issuer = server.origin
  const key = { file: spec.keyFile, created: loaded.created, kid: loaded.key.publicJwk.kid ?? '(none)' }
  process.stdout.write(
    [
      ...describe(server, key),
      '',
      'trust:',
      `  ${role}: ["${issuer}"]`,
      ...(issuer.startsWith('http://') ? [`  insecure_issuers: ["${issuer}"]   # http:// issuers must be listed here; loopback only`] : []),
      '',
      '',
    ].join('\n'),
  )
  return new Promise((resolve) => {
    const stop = (): void => void server.close().then(() => resolve(0))
    process.once('SIGINT', stop)
    process.once('SIGTERM', stop)
  })
}

import { startPersonServer } from '../devkit/person-server.js'
import { loadOrCreateKeyFile } from '../devkit/keys.js'
import { UsageError } from './command.js'

export interface PersonServerOptions {
  listen: string
  key: string
  'agent-server': string[]
}

/**
 * `aauth-gateway person-server` (README "Quick start"): the developer kit's person server as a
 * process. It approves every request for its one person automatically (no sign-in, no consent
 * screen), so it is for loopback development only. Its key lives in `--key` (created there,
 * mode 0600, when missing), so a restart keeps the issuer's keys the gateway has cached. It
 * takes calls signed with agent tokens from the `--agent-server` origins only (AAuth -11 §7).
 */
export async function personServer(values: PersonServerOptions): Promise<number> {
  if (!/^(\[[0-9a-fA-F:.]+\]|[^:\s]+):\d{1,5}$/.test(values.listen)) throw new UsageError(`--listen '${values.listen}' is not HOST:PORT`)
  for (const origin of values['agent-server']) {
    if (!/^https?:\/\/[^/\s]+$/.test(origin)) throw new UsageError(`--agent-server '${origin}' is not an origin (scheme://host[:port], no path)`)
  }
  let loaded
  try {
    loaded = loadOrCreateKeyFile(values.key, 'person-server-1')
  } catch (err) {
    process.stderr.write(`person-server: --key ${values.key}: ${(err as Error).message}\n`)
    return 1
  }
  let server
  try {
    server = await startPersonServer({ agentServers: values['agent-server'], listen: values.listen, key: loaded.key })
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code
    const why = code === 'EADDRINUSE' ? 'the port is in use (another person-server?); pick another with --listen' : (err as Error).message
    process.stderr.write(`person-server: cannot listen on ${values.listen}: ${why}\n`)
    return 1
  }
  const issuer = server.origin
  const insecure = issuer.startsWith('http://')
  process.stdout.write(
    [
      `person server: issuer ${issuer}, approving everything for '${server.person}' automatically (development only)`,
      `key: ${values.key} (${loaded.created ? 'created' : 'loaded'}; kid ${loaded.key.publicJwk.kid ?? '(none)'})`,
      `takes calls signed with agent tokens from: ${values['agent-server'].join(', ')}`,
      `POST ${issuer}/person/token {"resource"} -> person token; POST ${issuer}/auth/token {"resource_token", "presented_token"} -> auth token`,
      '',
      'Paste into the gateway config (config/gateway.yaml already trusts http://127.0.0.1:8701):',
      '',
      'trust:',
      `  person_servers: ["${issuer}"]`,
      ...(insecure ? [`  insecure_issuers: ["${issuer}"]   # http:// issuers must be listed here; loopback only`] : []),
      '',
      '',
    ].join('\n'),
  )
  return new Promise((resolve) => {
    const stop = (): void => {
      void server.close().then(() => resolve(0))
    }
    process.once('SIGINT', stop)
    process.once('SIGTERM', stop)
  })
}

import { startAgentServer } from '../devkit/agent-server.js'
import { loadOrCreateKeyFile } from '../devkit/keys.js'
import { UsageError } from './command.js'

export interface AgentServerOptions {
  listen: string
  issuer?: string
  key: string
}

/**
 * `aauth-gateway agent-server` (README "Quick start"): the developer kit's loopback agent
 * provider as a process. Its key lives in `--key` (created there, mode 0600, when missing), so a
 * restart keeps the identity the gateway trusts. Prints the issuer and the `trust` lines to paste
 * into a gateway config, then serves until SIGINT/SIGTERM.
 */
export async function agentServer(values: AgentServerOptions): Promise<number> {
  if (!/^(\[[0-9a-fA-F:.]+\]|[^:\s]+):\d{1,5}$/.test(values.listen)) throw new UsageError(`--listen '${values.listen}' is not HOST:PORT`)
  if (values.issuer !== undefined && !/^https?:\/\/[^/\s]+$/.test(values.issuer)) {
    throw new UsageError(`--issuer '${values.issuer}' is not an origin (scheme://host[:port], no path)`)
  }
  let loaded
  try {
    loaded = loadOrCreateKeyFile(values.key, 'agent-server-1')
  } catch (err) {
    process.stderr.write(`agent-server: --key ${values.key}: ${(err as Error).message}\n`)
    return 1
  }
  let server
  try {
    server = await startAgentServer({ listen: values.listen, issuer: values.issuer, key: loaded.key })
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code
    const why = code === 'EADDRINUSE' ? 'the port is in use (another agent-server?); pick another with --listen' : (err as Error).message
    process.stderr.write(`agent-server: cannot listen on ${values.listen}: ${why}\n`)
    return 1
  }
  const issuer = server.origin
  const insecure = issuer.startsWith('http://')
  process.stdout.write(
    [
      `agent server: issuer ${issuer}, listening on ${server.url}`,
      `key: ${values.key} (${loaded.created ? 'created' : 'loaded'}; kid ${loaded.key.publicJwk.kid ?? '(none)'})`,
      `POST ${server.url}/delegate/token with {"sub": NAME, "cnf_jwk": PUBLIC_JWK} -> {"agent_token", "expires_in"}`,
      '',
      'Paste into the gateway config (config/gateway.yaml already trusts http://127.0.0.1:8700):',
      '',
      'trust:',
      `  agent_providers: ["${issuer}"]`,
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

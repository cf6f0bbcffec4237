import { startAgentServer } from '../devkit/agent-server.js'
import { checkOrigin, runDevServer } from './dev-server.js'

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
  if (values.issuer !== undefined) checkOrigin('--issuer', values.issuer)
  return runDevServer(
    { command: 'agent-server', listen: values.listen, keyFile: values.key, kid: 'agent-server-1' },
    (key) => startAgentServer({ listen: values.listen, issuer: values.issuer, key }),
    (server, key) => [
      `agent server: issuer ${server.origin}, listening on ${server.url}`,
      `key: ${key.file} (${key.created ? 'created' : 'loaded'}; kid ${key.kid})`,
      `POST ${server.url}/delegate/token with {"sub": NAME, "cnf_jwk": PUBLIC_JWK} -> {"agent_token", "expires_in"}`,
      '',
      'Paste into the gateway config (config/gateway.yaml already trusts http://127.0.0.1:8700):',
    ],
    'agent_providers',
  )
}

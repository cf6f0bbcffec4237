import { startPersonServer } from '../devkit/person-server.js'
import { checkOrigin, runDevServer } from './dev-server.js'

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
  for (const origin of values['agent-server']) checkOrigin('--agent-server', origin)
  return runDevServer(
    { command: 'person-server', listen: values.listen, keyFile: values.key, kid: 'person-server-1' },
    (key) => startPersonServer({ agentServers: values['agent-server'], listen: values.listen, key }),
    (server, key) => [
      `person server: issuer ${server.origin}, approving everything for '${server.person}' automatically (development only)`,
      `key: ${key.file} (${key.created ? 'created' : 'loaded'}; kid ${key.kid})`,
      `takes calls signed with agent tokens from: ${values['agent-server'].join(', ')}`,
      `POST ${server.origin}/person/token {"resource"} -> person token; POST ${server.origin}/auth/token {"resource_token", "presented_token"} -> auth token`,
      '',
      'Paste into the gateway config (config/gateway.yaml already trusts http://127.0.0.1:8701):',
    ],
    'person_servers',
  )
}

import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { stringify } from 'yaml'
import { generatePrivateJwk, newKey } from '../devkit/keys.js'
import { startBackend, type Backend } from '../devkit/backend.js'
import { startGateway, type RunningGateway } from '../gateway.js'
import type { DecisionLog } from '../log/decision.js'
import { startAgentServer, type AgentServer } from '../devkit/agent-server.js'
import { startPersonServer, type PersonServer } from '../devkit/person-server.js'

/** The gateway's routes in this demo, one per rung of the AAuth ladder (plus a step-up one). */
export const PATHS = { pseudonymous: '/hello', identified: '/data', authorized: '/records', admin: '/admin' } as const
export const SCOPES = { authorized: 'data.write', admin: 'data.admin' } as const

/** Everything the demo runs, on loopback with ephemeral ports. */
export interface DemoStack {
  agentServer: AgentServer
  personServer: PersonServer
  backend: Backend
  gateway: RunningGateway
  /** The gateway's origin: where agents call, and the resource's identifier (`iss`, `aud`). */
  resource: string
  /** The temp dir holding the gateway config, policy and resource key. */
  dir: string
  close(): Promise<void>
}

/**
 * Starts the agent server, person server, echo backend and gateway. The gateway's config is
 * written to a temp dir; its resource identifier must be its own origin (person servers fetch
 * `{iss}/.well-known/aauth-resource.json` to check resource tokens), which is only known once it
 * listens on port 0, so the config is written again with that origin and reloaded before use.
 */
export async function startStack(log: DecisionLog): Promise<DemoStack> {
  const closers: (() => Promise<void> | void)[] = []
  const close = async (): Promise<void> => {
    for (const c of closers.reverse()) await c()
  }
  try {
    const dir = mkdtempSync(join(tmpdir(), 'aauth-demo-'))
    closers.push(() => rmSync(dir, { recursive: true, force: true }))
    const agentServer = await startAgentServer({ key: newKey('Ed25519', 'agent-key-1') })
    closers.push(() => agentServer.close())
    const personServer = await startPersonServer({ agentServers: [agentServer.origin] })
    closers.push(() => personServer.close())
    const backend = await startBackend({ record: false })
    closers.push(() => backend.close())

    const configFile = writeGatewayFiles(dir, agentServer.origin)
    const writeConfig = (issuer: string): void =>
      writeFileSync(configFile, stringify(gatewayConfig(issuer, agentServer.origin, personServer.origin, backend.url)))
    writeConfig('http://127.0.0.1:0')
    const gateway = await startGateway({ configFile, log })
    closers.push(() => gateway.close())
    writeConfig(gateway.url)
    if (!(await gateway.reload())) throw new Error('the gateway did not accept its final config')
    return { agentServer, personServer, backend, gateway, resource: gateway.url, dir, close }
  } catch (err) {
    await close()
    throw err
  }
}

/** Writes the resource signing key and the policy; returns where `gateway.yaml` goes. */
function writeGatewayFiles(dir: string, agentServer: string): string {
  const key = { ...generatePrivateJwk('Ed25519'), kid: 'resource-key-1', alg: 'Ed25519' }
  writeFileSync(join(dir, 'resource.jwk.json'), JSON.stringify(key), { mode: 0o600 })
  mkdirSync(join(dir, 'policies'))
  writeFileSync(join(dir, 'policies', 'delegates.yaml'), policy(agentServer))
  return join(dir, 'gateway.yaml')
}

/** The gateway config (docs/configuration.md): http issuers on loopback must be listed as insecure_issuers too. */
function gatewayConfig(issuer: string, agent: string, ps: string, backend: string): Record<string, unknown> {
  return {
    listen: '127.0.0.1:0',
    admin: '127.0.0.1:0',
    resource: {
      issuer,
      signing_key: 'resource.jwk.json',
      scopes: { [SCOPES.authorized]: 'Change data', [SCOPES.admin]: 'Administer data' },
    },
    trust: { agent_providers: [agent], person_servers: [ps], insecure_issuers: [agent, ps] },
    policies: 'policies',
    routes: [
      { name: 'hello', match: { path_prefix: PATHS.pseudonymous }, upstream: backend, access: 'pseudonymous' },
      { name: 'data', match: { path_prefix: PATHS.identified }, upstream: backend, access: 'identified', policy: 'delegates' },
      { name: 'records', match: { path_prefix: PATHS.authorized }, upstream: backend, access: 'authorized', scopes: [SCOPES.authorized] },
      { name: 'admin', match: { path_prefix: PATHS.admin }, upstream: backend, access: 'authorized', scopes: [SCOPES.admin] },
    ],
  }
}

function policy(agentServer: string): string {
  return [
    '# Delegates of the demo agent server, minus revoked ones.',
    'name: delegates',
    'rules:',
    `  - allow: 'aauth.agent == "${agentServer}"'`,
    `  - deny: 'aauth.agent_delegate.startsWith("revoked-")'`,
    '',
  ].join('\n')
}

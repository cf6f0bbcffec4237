import { startAgentServer as startDevAgentServer } from '../src/devkit/agent-server.js'
import { jwtMember, newKey } from '../src/devkit/keys.js'
import type { Credential } from './sources.js'

/**
 * The bench's agent server: the developer kit's loopback agent provider (src/devkit), which the
 * gateway fetches keys from once and then serves from cache (the "warm cache" rows).
 */
export interface AgentServer {
  /** `http://127.0.0.1:port`: the `iss` of its tokens, to list in `trust`. */
  readonly origin: string
  /** A delegate key with a fresh agent token for `sub`, as a `jwt` Signature-Key credential. */
  credential(sub: string): Promise<Credential>
  close(): Promise<void>
}

export async function startAgentServer(): Promise<AgentServer> {
  const server = await startDevAgentServer()
  return {
    origin: server.origin,
    async credential(sub: string): Promise<Credential> {
      const delegate = newKey('Ed25519')
      return { key: delegate, signatureKey: jwtMember(await server.issue(sub, delegate.publicJwk)) }
    },
    close: () => server.close(),
  }
}

import { randomUUID } from 'node:crypto'
import { SignJWT } from 'jose'
import { HttpProblem, jsonObject, startJsonServer, type LoopbackServer } from './http.js'
import { newKey, type PublicJwk } from './keys.js'

/** Agent tokens live an hour (AAuth -11 §5.1: SHOULD be at most 24 h). */
export const AGENT_TOKEN_LIFETIME = 3600

export interface AgentServer extends LoopbackServer {
  /**
   * Issues an `aa-agent+jwt` binding `jwk` to delegate `sub`, as of `issuedAt` (seconds; default
   * now). The demo backdates one to show an expired token.
   */
  issue(sub: string, jwk: PublicJwk, issuedAt?: number): Promise<string>
}

/**
 * The agent server (Agent Provider): the parent agent identity. It publishes
 * `/.well-known/aauth-agent.json` (`issuer`, `jwks_uri`) and its JWKS, and issues agent tokens
 * to its delegates over `POST /delegate/token` with `{"sub": "...", "cnf_jwk": {...}}`.
 * How a delegate proves it may ask is deployment-specific (attestation, mTLS, ...); this demo
 * server trusts any caller on loopback.
 */
export async function startAgentServer(): Promise<AgentServer> {
  const key = newKey('agent-key-1')
  let origin = ''
  const issue = async (sub: string, jwk: PublicJwk, issuedAt = Math.floor(Date.now() / 1000)): Promise<string> =>
    new SignJWT({ dwk: 'aauth-agent.json', cnf: { jwk } })
      .setProtectedHeader({ alg: 'Ed25519', typ: 'aa-agent+jwt', kid: key.publicJwk.kid })
      .setIssuer(origin)
      .setSubject(sub)
      .setJti(randomUUID())
      .setIssuedAt(issuedAt)
      .setExpirationTime(issuedAt + AGENT_TOKEN_LIFETIME)
      .sign(key.privateKey)

  const server = await startJsonServer({
    'GET /.well-known/aauth-agent.json': () => ({ issuer: origin, jwks_uri: `${origin}/jwks.json` }),
    'GET /jwks.json': () => ({ keys: [key.publicJwk] }),
    'POST /delegate/token': async ({ body }) => {
      const { sub, cnf_jwk: jwk } = jsonObject(body)
      if (typeof sub !== 'string' || sub === '') throw new HttpProblem(400, 'invalid_request', 'sub is required')
      return { agent_token: await issue(sub, delegateKey(jwk)), expires_in: AGENT_TOKEN_LIFETIME }
    },
  })
  origin = server.origin
  return { ...server, issue }
}

/** The delegate's public key: an Ed25519 JWK with `alg` (AAuth -11: a bound key MUST carry `alg`). */
function delegateKey(value: unknown): PublicJwk {
  const jwk = (typeof value === 'object' && value !== null ? value : {}) as Record<string, unknown>
  if (jwk.kty !== 'OKP' || jwk.crv !== 'Ed25519' || jwk.alg !== 'Ed25519' || typeof jwk.x !== 'string' || 'd' in jwk) {
    throw new HttpProblem(400, 'invalid_request', 'cnf_jwk must be a public Ed25519 JWK with "alg": "Ed25519"')
  }
  const key: PublicJwk = { kty: 'OKP', crv: 'Ed25519', x: jwk.x, alg: 'Ed25519' }
  if (typeof jwk.kid === 'string') key.kid = jwk.kid
  return key
}

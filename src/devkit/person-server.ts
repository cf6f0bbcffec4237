import { createHash, createPublicKey, randomUUID } from 'node:crypto'
import { calculateJwkThumbprint, jwtVerify, SignJWT, type JWK, type JWTPayload } from 'jose'
import { HttpProblem, jsonObject, startJsonServer, type LoopbackServer } from './http.js'
import { newKey, type DevKey } from './keys.js'
import { verifyIssued, verifySignedCall, type VerifiedCall } from './verify.js'

/** Person and auth tokens live at most an hour (AAuth -11 §7.1.4, §9.4), and never past the agent token. */
const TOKEN_LIFETIME = 3600

export interface PersonServer extends LoopbackServer {
  /** The one person this demo server speaks for; it approves every request automatically. */
  readonly person: string
  /** The directed `sub` this server uses for its person at `resource` (pairwise, opaque). */
  directedSub(resource: string): string
}

/**
 * A minimal person server (AAuth -11 §7, three-party): it publishes `aauth-person.json` and its
 * JWKS; `POST /person/token` `{"resource"}` issues an `aa-person+jwt` for that resource;
 * `POST /auth/token` `{"resource_token", "presented_token"}` verifies the resource token against
 * the resource's published keys, checks it names the presented token and the signing key, and
 * issues an `aa-auth+jwt` with the requested scope. Both endpoints take requests signed with an
 * agent token from one of `agentServers`. Consent is automatic.
 */
export async function startPersonServer(options: {
  agentServers: readonly string[]
  person?: string
  /** `host:port` to listen on (default an ephemeral loopback port). */
  listen?: string
  /** Its signing key (default a fresh one): `aauth-gateway person-server` keeps one in a file. */
  key?: DevKey
}): Promise<PersonServer> {
  const person = options.person ?? 'alice'
  const key = options.key ?? newKey('Ed25519', 'ps-key-1')
  const publicKey = createPublicKey(key.privateKey)
  let origin = ''
  const directedSub = (resource: string): string =>
    createHash('sha256').update(`${person}\n${resource}`).digest('base64url').slice(0, 22)

  const sign = (claims: JWTPayload, typ: string, call: VerifiedCall): Promise<string> => {
    const now = Math.floor(Date.now() / 1000)
    const exp = Math.min(now + TOKEN_LIFETIME, call.agent.exp ?? now)
    return new SignJWT({ ...claims, dwk: 'aauth-person.json', cnf: { jwk: call.jwk } })
      .setProtectedHeader({ alg: key.alg, typ, kid: key.publicJwk.kid })
      .setIssuer(origin)
      .setJti(randomUUID())
      .setIssuedAt(now)
      .setExpirationTime(exp)
      .sign(key.privateKey)
  }

  const server = await startJsonServer({
    'GET /.well-known/aauth-person.json': () => ({
      issuer: origin,
      jwks_uri: `${origin}/jwks.json`,
      person_token_endpoint: `${origin}/person/token`,
      auth_token_endpoint: `${origin}/auth/token`,
    }),
    'GET /jwks.json': () => ({ keys: [key.publicJwk] }),
    'POST /person/token': async (req) => {
      const call = await verifySignedCall(req, options.agentServers)
      const { resource } = jsonObject(req.body)
      if (typeof resource !== 'string' || !/^https?:\/\/[^/]+$/.test(resource)) {
        throw new HttpProblem(400, 'invalid_request', 'resource must be the resource identifier')
      }
      const token = await sign({ aud: resource, sub: directedSub(resource) }, 'aa-person+jwt', call)
      return { person_token: token, expires_in: TOKEN_LIFETIME }
    },
    'POST /auth/token': async (req) => {
      const call = await verifySignedCall(req, options.agentServers)
      const body = jsonObject(req.body)
      const grant = await checkGrant(body.resource_token, body.presented_token, call)
      const token = await sign({ aud: grant.aud, ps: origin, sub: grant.sub, scope: grant.scope }, 'aa-auth+jwt', call)
      return { auth_token: token, expires_in: TOKEN_LIFETIME }
    },
  }, options.listen)
  origin = server.origin

  /** What the resource asks for, once it is verified to name this server, this agent key and the token presented. */
  async function checkGrant(resourceToken: unknown, presentedToken: unknown, call: VerifiedCall) {
    if (typeof resourceToken !== 'string' || typeof presentedToken !== 'string') {
      throw new HttpProblem(400, 'invalid_request', 'resource_token and presented_token are required')
    }
    const rt = await verifyIssued(resourceToken, { typ: 'aa-resource+jwt', dwk: 'aauth-resource.json' }).catch((err: Error) => {
      throw new HttpProblem(400, 'invalid_resource_token', err.message)
    })
    const presented = await ownToken(presentedToken)
    const problems = [
      rt.aud !== origin && 'the resource token is not addressed to this person server',
      rt.agent_jkt !== call.thumbprint && 'the resource token is bound to another agent key',
      rt.presented_jti !== presented.jti && 'the resource token names another presented token',
      (rt.sub !== presented.sub || presented.aud !== rt.iss) && 'the presented token is for another person or resource',
      (await thumbprintOf(presented)) !== call.thumbprint && 'the presented token is bound to another key',
    ].filter((p): p is string => typeof p === 'string')
    if (problems.length > 0) throw new HttpProblem(400, 'invalid_resource_token', problems.join('; '))
    return { aud: rt.iss as string, sub: presented.sub as string, scope: typeof rt.scope === 'string' ? rt.scope : '' }
  }

  /** A person or auth token this server issued. */
  async function ownToken(token: string): Promise<JWTPayload> {
    try {
      const { payload, protectedHeader } = await jwtVerify(token, publicKey, { issuer: origin, algorithms: [key.alg] })
      if (protectedHeader.typ !== 'aa-person+jwt' && protectedHeader.typ !== 'aa-auth+jwt') throw new Error('not a person or auth token')
      return payload
    } catch (err) {
      throw new HttpProblem(400, 'invalid_presented_token', (err as Error).message)
    }
  }

  return { ...server, person, directedSub }
}

async function thumbprintOf(claims: JWTPayload): Promise<string | undefined> {
  const jwk = (claims.cnf as { jwk?: JWK } | undefined)?.jwk
  return jwk === undefined ? undefined : calculateJwkThumbprint(jwk)
}

import { createPublicKey } from 'node:crypto'
import { calculateJwkThumbprint, createLocalJWKSet, decodeJwt, jwtVerify, type JWK, type JWTPayload } from 'jose'
import { ALWAYS_REQUIRED_COMPONENTS, checkCoveredComponents } from '../signature/components.js'
import { checkContentDigest } from '../signature/digest.js'
import { checkFreshness } from '../signature/freshness.js'
import { parseSignatureHeaders } from '../signature/parse.js'
import { verifyRequestSignature } from '../signature/verify.js'
import { getJson, HttpProblem, type JsonRequest } from './http.js'

/**
 * How the demo's person server checks what reaches it: the agent's signed request (RFC 9421 with
 * `Signature-Key: jwt` carrying its agent token) and tokens issued by other servers, each verified
 * against the key its issuer publishes at `{iss}/.well-known/{dwk}` -> `jwks_uri`.
 */

export interface VerifiedCall {
  /** The verified agent token's claims. */
  agent: JWTPayload
  /** The key that signed the request (the agent token's `cnf.jwk`) and its RFC 7638 thumbprint. */
  jwk: JWK
  thumbprint: string
}

/** Token endpoints take signed POSTs whose body is covered (AAuth -11: content-type and content-digest). */
const REQUIRED = [...ALWAYS_REQUIRED_COMPONENTS, 'content-type', 'content-digest']

/** Verifies a request signed with an agent token from one of `agentServers`. Throws a 401 HttpProblem. */
export async function verifySignedCall(req: JsonRequest, agentServers: readonly string[]): Promise<VerifiedCall> {
  try {
    const parsed = parseSignatureHeaders(req.headers, { legacy: false })
    if (parsed === null) throw new Error('the request is not signed')
    checkCoveredComponents(parsed, REQUIRED)
    checkFreshness(parsed, Math.floor(Date.now() / 1000), 60)
    const token = parsed.key.params.get('jwt')
    if (parsed.key.scheme !== 'jwt' || typeof token !== 'string') throw new Error('sign with your agent token (jwt scheme)')
    const agent = await verifyIssued(token, { typ: 'aa-agent+jwt', dwk: 'aauth-agent.json', issuers: agentServers })
    const jwk = (agent.cnf as { jwk?: JWK } | undefined)?.jwk
    if (jwk === undefined) throw new Error('the agent token has no cnf.jwk')
    const thumbprint = await calculateJwkThumbprint(jwk)
    const q = req.target.indexOf('?')
    const signed = {
      method: req.method,
      authority: req.headers.host ?? '',
      path: q === -1 ? req.target : req.target.slice(0, q),
      query: q === -1 ? '?' : req.target.slice(q),
      headers: req.headers,
    }
    await verifyRequestSignature(parsed, signed, { alg: 'Ed25519', key: createPublicKey({ key: jwk, format: 'jwk' }), jwk, thumbprint })
    checkContentDigest(req.headers['content-digest'], req.body)
    return { agent, jwk, thumbprint }
  } catch (err) {
    if (err instanceof HttpProblem) throw err
    throw new HttpProblem(401, 'invalid_signature', (err as Error).message)
  }
}

export interface IssuedTokenRule {
  typ: string
  dwk: string
  /** Issuers accepted; undefined = any that publishes `dwk`. */
  issuers?: readonly string[]
}

/** Verifies a JWT another server issued, with the key its `{iss}/.well-known/{dwk}` names. */
export async function verifyIssued(token: string, rule: IssuedTokenRule): Promise<JWTPayload> {
  const { iss, dwk } = decodeJwt(token)
  if (typeof iss !== 'string' || dwk !== rule.dwk) throw new Error(`not a ${rule.typ} with dwk ${rule.dwk}`)
  if (rule.issuers !== undefined && !rule.issuers.includes(iss)) throw new Error(`issuer ${iss} is not trusted`)
  const metadata = await getJson(`${iss}/.well-known/${rule.dwk}`)
  if (metadata.issuer !== iss || typeof metadata.jwks_uri !== 'string') throw new Error(`${rule.dwk} of ${iss} does not name it`)
  const jwks = await getJson(metadata.jwks_uri)
  const { payload } = await jwtVerify(token, createLocalJWKSet(jwks as { keys: JWK[] }), {
    typ: rule.typ,
    issuer: iss,
    algorithms: ['Ed25519'],
  })
  return payload
}

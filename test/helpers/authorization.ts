import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { createLocalJWKSet, jwtVerify, type JWTPayload } from 'jose'
import { parseDictionary, Token } from 'structured-headers'
import { generatePrivateJwk } from '../../src/devkit/keys.js'
import { signRequest } from '../../src/devkit/sign.js'
import type { AgentServer, MintOptions } from '../../src/devkit/agent-server.js'
import { AUTHORITY, send, type Answer } from './gateway.js'
import { newKey, type DevKey } from '../../src/devkit/keys.js'

/**
 * Shared pieces of the authorization tests: the resource signing key file, person and auth
 * tokens minted by the test issuer acting as a person or access server, a delegate that signs
 * with its own key, and readers for `AAuth-Requirement` and resource tokens.
 */

/** The file name `resource.signing_key` points at in these tests. */
export const RESOURCE_KEY_FILE = 'resource.jwk.json'

/** A private JWK file for `resource.signing_key` (with `kid` and `alg`), as `keygen` writes it. */
export function resourceKeyFile(kid = 'resource-key-1'): string {
  return JSON.stringify({ ...generatePrivateJwk('Ed25519'), kid, alg: 'Ed25519' })
}

/** A delegate: its own key, and the agent token its agent server issued for that key. */
export interface Delegate {
  key: DevKey
  agentToken: string
}

export async function newDelegate(agent: AgentServer, sub = 'aauth:assistant@agent.test'): Promise<Delegate> {
  const key = newKey('Ed25519')
  return { key, agentToken: await agent.agentToken(key.publicJwk, { sub }) }
}

const now = (): number => Math.floor(Date.now() / 1000)

/** An `aa-person+jwt` from `ps` for `resource`, bound to `key`, valid 10 minutes. */
export function mintPersonToken(ps: AgentServer, resource: string, key: DevKey, claims: JWTPayload = {}, options: MintOptions = {}): Promise<string> {
  const t = now()
  return ps.mint(
    { iss: ps.origin, dwk: 'aauth-person.json', aud: resource, sub: 'person-1', jti: randomUUID(), iat: t, exp: t + 600, cnf: { jwk: key.publicJwk }, ...claims },
    { typ: 'aa-person+jwt', ...options },
  )
}

/**
 * An `aa-auth+jwt` from `issuer` (a person server by default: `dwk: aauth-person.json`, `ps` =
 * its own origin) for `resource`, bound to `key`, scope `data.read`, valid 10 minutes.
 */
export function mintAuthToken(issuer: AgentServer, resource: string, key: DevKey, claims: JWTPayload = {}, options: MintOptions = {}): Promise<string> {
  const t = now()
  return issuer.mint(
    {
      iss: issuer.origin,
      dwk: 'aauth-person.json',
      ps: issuer.origin,
      aud: resource,
      sub: 'person-1',
      scope: 'data.read',
      jti: randomUUID(),
      iat: t,
      exp: t + 600,
      cnf: { jwk: key.publicJwk },
      ...claims,
    },
    { typ: 'aa-auth+jwt', ...options },
  )
}

let sequence = 0

/**
 * Sends a request signed by `key` presenting `token` in `Signature-Key: sig=jwt`, to a fresh
 * path under `prefix` (each request is unique, so the replay defence never interferes).
 */
export async function callWithToken(
  gw: { url: string },
  prefix: string,
  key: DevKey,
  token: string,
  method = 'GET',
): Promise<Answer> {
  const target = `${prefix}/${++sequence}`
  const headers = signRequest({ method, authority: AUTHORITY, target }, key, { signatureKey: `jwt;jwt="${token}"` })
  return send(gw, target, { method, headers })
}

/** `AAuth-Requirement` (an RFC 8941 Dictionary) as its `requirement` token and parameters. */
export interface ParsedRequirement {
  requirement: string
  params: Map<string, unknown>
}

export function parseRequirement(value: string | null): ParsedRequirement {
  assert.ok(value !== null, 'AAuth-Requirement is missing')
  const dict = parseDictionary(value)
  assert.deepEqual([...dict.keys()], ['requirement'], 'AAuth-Requirement has only the requirement member')
  const member = dict.get('requirement')
  assert.ok(member !== undefined && !Array.isArray(member[0]) && member[0] instanceof Token, 'requirement is a Token')
  return { requirement: member[0].toString(), params: member[1] }
}

/** The `resource-token` of a `requirement=auth-token` challenge. */
export function resourceTokenOf(res: Answer | Response): string {
  const parsed = parseRequirement(res.headers.get('aauth-requirement'))
  assert.equal(parsed.requirement, 'auth-token')
  const token = parsed.params.get('resource-token')
  assert.equal(typeof token, 'string', 'an auth-token challenge carries resource-token')
  return token as string
}

/**
 * Verifies a resource token the way a person server does: the key published at the resource's
 * `jwks_uri` (from `/.well-known/aauth-resource.json`), `typ: aa-resource+jwt`, `iss` = the
 * resource. The documents are fetched from `gw.url`, whatever host the issuer names.
 */
export async function verifyResourceToken(gw: { url: string }, token: string): Promise<{ payload: JWTPayload; kid: string }> {
  const metadata = (await (await fetch(gw.url + '/.well-known/aauth-resource.json')).json()) as Record<string, unknown>
  const issuer = metadata.issuer as string
  const jwksUri = metadata.jwks_uri
  assert.equal(typeof jwksUri, 'string', 'the resource publishes jwks_uri')
  assert.ok((jwksUri as string).startsWith(issuer + '/'), 'jwks_uri is on the resource origin')
  const jwks = (await (await fetch(gw.url + new URL(jwksUri as string).pathname)).json()) as Parameters<typeof createLocalJWKSet>[0]
  const { payload, protectedHeader } = await jwtVerify(token, createLocalJWKSet(jwks), {
    typ: 'aa-resource+jwt',
    issuer,
    algorithms: ['Ed25519', 'ES256'],
  })
  assert.equal(typeof protectedHeader.kid, 'string')
  return { payload, kid: protectedHeader.kid as string }
}

/** Asserts the shape every challenge body has: RFC 9457 problem+json with AAuth's `error`. */
export function assertProblem(res: Answer, error: string): void {
  assert.equal(res.headers.get('content-type'), 'application/problem+json')
  const body = res.json()
  assert.equal(body.status, res.status)
  assert.equal(body.error, error)
  for (const member of ['type', 'title', 'detail']) assert.equal(typeof body[member], 'string', member)
}

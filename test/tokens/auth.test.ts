import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import type { JWTPayload } from 'jose'
import { SignatureError, type SignatureErrorCode } from '../../src/errors.js'
import type { ResolveContext } from '../../src/keys/types.js'
import { verifyToken } from '../../src/tokens/index.js'
import { type AgentServer, startAgentServer } from '../../src/devkit/agent-server.js'
import { resolveContext, resourceConfig } from '../helpers/resolve-context.js'
import { newKey } from '../../src/devkit/keys.js'

/** Person and auth tokens, with the test issuer playing Person Server and Access Server. */
let server: AgentServer
before(async () => { server = await startAgentServer() })
after(() => server.close())

const RESOURCE = 'https://resource.test'
const holder = newKey('Ed25519')
const now = (): number => Math.floor(Date.now() / 1000)

function context(trust: Record<string, unknown> = {}, legacy = true): ResolveContext {
  return resolveContext(resourceConfig({
    issuer: RESOURCE,
    trust: { person_servers: [server.origin], access_servers: [server.origin], insecure_issuers: [server.origin], ...trust },
    signatures: { legacy },
  }))
}

function token(typ: string, claims: JWTPayload): Promise<string> {
  const base = { iss: server.origin, aud: RESOURCE, sub: 'user-8f14', jti: `j${Math.random()}`, iat: now(), exp: now() + 600, cnf: { jwk: { ...holder.publicJwk } } }
  return server.mint({ ...base, ...claims }, { typ })
}

async function refuses(jwt: string, code: SignatureErrorCode, ctx = context()): Promise<void> {
  await assert.rejects(verifyToken(jwt, ctx), (e: unknown) => e instanceof SignatureError && e.code === code)
}

test('an aa-auth+jwt from a Person Server authorizes, with user and scopes', async () => {
  const jwt = await token('aa-auth+jwt', { dwk: 'aauth-person.json', ps: server.origin, scope: 'data.read  data.write' })
  const { identity } = await verifyToken(jwt, context())
  assert.deepEqual(
    [identity.level, identity.tokenType, identity.user, identity.issuer, identity.agent, [...identity.scope]],
    ['authorized', 'aa-auth+jwt', 'user-8f14', server.origin, '', ['data.read', 'data.write']],
  )
  assert.equal(server.hitsOn('/.well-known/aauth-person.json'), 1)
})

test('an aa-auth+jwt from an Access Server is trusted through access_servers only', async () => {
  const jwt = await token('aa-auth+jwt', { dwk: 'aauth-access.json', aud: [RESOURCE] })
  assert.equal((await verifyToken(jwt, context())).identity.level, 'authorized')
  await refuses(jwt, 'invalid_jwt', context({ access_servers: [] }))
})

test('auth tokens: aud must be this resource, sub is required, lifetime at most one hour', async () => {
  await refuses(await token('aa-auth+jwt', { dwk: 'aauth-person.json', aud: 'https://other.test' }), 'invalid_jwt')
  await refuses(await token('aa-auth+jwt', { dwk: 'aauth-person.json', aud: undefined }), 'invalid_jwt')
  await refuses(await token('aa-auth+jwt', { dwk: 'aauth-person.json', sub: undefined }), 'invalid_jwt')
  await refuses(await token('aa-auth+jwt', { dwk: 'aauth-person.json', exp: now() + 3700 }), 'invalid_jwt')
  await refuses(await token('aa-auth+jwt', { dwk: 'aauth-agent.json' }), 'invalid_jwt')
  await refuses(await token('aa-auth+jwt', { dwk: 'aauth-person.json', scope: ['data.read'] }), 'invalid_jwt')
})

test('an aa-person+jwt identifies the person; it must not carry scope or account', async () => {
  const jwt = await token('aa-person+jwt', { dwk: 'aauth-person.json' })
  const { identity } = await verifyToken(jwt, context())
  assert.deepEqual([identity.level, identity.user, identity.scope.length], ['identified', 'user-8f14', 0])
  await refuses(await token('aa-person+jwt', { dwk: 'aauth-person.json', scope: 'data.read' }), 'invalid_jwt')
  await refuses(await token('aa-person+jwt', { dwk: 'aauth-person.json', account: 'a' }), 'invalid_jwt')
  await refuses(await token('aa-person+jwt', { dwk: 'aauth-access.json' }), 'invalid_jwt')
  await refuses(jwt, 'invalid_jwt', context({ person_servers: [] }))
})

test('legacy auth+jwt carries agent, agent_delegate and the act chain, current actor first', async () => {
  const act = { sub: 'delegate-2', act: { sub: 'delegate-1', agent: 'https://first.test' } }
  const claims = { iat: undefined, jti: undefined, agent: 'https://agent.test', agent_delegate: 'delegate-2', scope: 'data.read', act }
  const jwt = await token('auth+jwt', claims)
  const { identity } = await verifyToken(jwt, context())
  assert.deepEqual(
    [identity.level, identity.agent, identity.agentDelegate, [...identity.scope]],
    ['authorized', 'https://agent.test', 'delegate-2', ['data.read']],
  )
  assert.deepEqual(identity.delegation, [{ sub: 'delegate-2' }, { sub: 'delegate-1', agent: 'https://first.test' }])
  assert.equal(server.hitsOn('/.well-known/aauth-issuer'), 1)
  await refuses(jwt, 'invalid_jwt', context({}, false))
  await refuses(await token('auth+jwt', { ...claims, act: 'x' }), 'invalid_jwt')
})

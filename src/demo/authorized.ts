import { calculateJwkThumbprint, decodeJwt } from 'jose'
import type { Exchange } from './delegate.js'
import { getJson } from '../devkit/http.js'
import { backendSaw, expectRequirement, jsonMember, requirementOf } from './observe.js'
import type { Step, StepContext } from './run.js'
import { PATHS, SCOPES } from './stack.js'

/**
 * The authorized rung (AAuth -11 §6, three-party): agent token -> `requirement=person-token`;
 * person token -> `requirement=auth-token` with a resource token; the person server exchanges
 * resource token + presented token for an auth token; then a step-up for a missing scope.
 */

interface Endpoints {
  person: string
  auth: string
}

async function personServerEndpoints(t: StepContext): Promise<Endpoints> {
  const meta = await getJson(`${t.stack.personServer.origin}/.well-known/aauth-person.json`)
  return { person: String(meta.person_token_endpoint), auth: String(meta.auth_token_endpoint) }
}

/** Checks a `requirement=auth-token` challenge and its resource token; returns the token. */
async function resourceTokenFrom(t: StepContext, ex: Exchange, presented: string, scope: string): Promise<string | undefined> {
  const req = requirementOf(ex)
  const rt = req?.resourceToken
  const ok = ex.status === 401 && req?.requirement === 'auth-token'
  t.check(ok && rt !== undefined, `${ex.status} AAuth-Requirement: requirement=${req?.requirement}; resource-token="..."`)
  if (!ok || rt === undefined) return undefined
  t.print.token('Resource token', rt)
  const claims = decodeJwt(rt)
  const jkt = await calculateJwkThumbprint(t.delegates.first.key.publicJwk)
  t.check(claims.iss === t.stack.resource && claims.aud === t.stack.personServer.origin, 'iss is the resource, aud the person server')
  t.check(claims.agent_jkt === jkt, "agent_jkt is the thumbprint of the delegate's key")
  t.check(claims.presented_jti === decodeJwt(presented).jti, 'presented_jti names the token just presented')
  t.check(claims.scope === scope, `scope: ${String(claims.scope)}`)
  return rt
}

/** Exchanges a resource token at the person server; returns the auth token. */
async function exchange(t: StepContext, endpoint: string, resourceToken: string, presented: string): Promise<string | undefined> {
  const d = t.delegates.first
  const ex = await d.call(endpoint, { token: d.agentToken, json: { resource_token: resourceToken, presented_token: presented } })
  t.print.exchange(ex)
  const token = jsonMember(ex, 'auth_token')
  if (!t.check(ex.status === 200 && token !== undefined, 'auth token issued') || token === undefined) return undefined
  t.print.token('Auth token', token)
  return token
}

/** The authorized call with an auth token; checks what the backend was told. */
function checkAuthorized(t: StepContext, ex: Exchange, scope: string): void {
  const saw = backendSaw(ex)
  const sub = t.stack.personServer.directedSub(t.stack.resource)
  const level = saw?.['x-aauth-level']
  t.check(ex.status === 200 && level === 'authorized', `${ex.status}; backend sees X-AAuth-Level: ${level}`)
  t.check(saw?.['x-aauth-user'] === sub, `backend sees X-AAuth-User: ${saw?.['x-aauth-user']} (${t.stack.personServer.person}, directed)`)
  t.check(saw?.['x-aauth-scope'] === scope, `backend sees X-AAuth-Scope: ${saw?.['x-aauth-scope']}`)
  t.check(saw?.['x-aauth-token-type'] === 'aa-auth+jwt', 'backend sees X-AAuth-Token-Type: aa-auth+jwt')
  t.print.line('  (AAuth -11 auth tokens carry no agent identifier: the grant is bound to the key, X-AAuth-Thumbprint)')
}

const authorized: Step = {
  title: 'Authorized Access: Person Token, Resource Token, Auth Token',
  description: `A route needing scope ${SCOPES.authorized}: the agent token alone is not enough; the delegate climbs the ladder.`,
  async run(t) {
    const d = t.delegates.first
    const { resource } = t.stack
    const meta = await getJson(`${resource}/.well-known/aauth-resource.json`)
    const scopes = Object.keys(meta.scope_descriptions ?? {}).join(' ')
    t.print.line(`  Resource metadata: issuer ${String(meta.issuer)}, access_mode ${String(meta.access_mode)}, scopes ${scopes}`)
    const endpoints = await personServerEndpoints(t)
    const url = resource + PATHS.authorized
    const record = { title: 'Q3 report', amount: 1200 }

    const first = await d.call(url, { token: d.agentToken, json: record })
    t.print.exchange(first)
    expectRequirement(t, first, 'requirement=person-token')

    const pt = await d.call(endpoints.person, { token: d.agentToken, json: { resource: meta.issuer } })
    t.print.exchange(pt)
    const personToken = jsonMember(pt, 'person_token')
    if (!t.check(pt.status === 200 && personToken !== undefined, 'person token issued') || personToken === undefined) return
    t.print.token('Person token', personToken)
    t.check(decodeJwt(personToken).aud === resource, 'aud is this resource')

    const second = await d.call(url, { token: personToken, json: record })
    t.print.exchange(second)
    const rt = await resourceTokenFrom(t, second, personToken, SCOPES.authorized)
    if (rt === undefined) return
    const authToken = await exchange(t, endpoints.auth, rt, personToken)
    if (authToken === undefined) return

    const third = await d.call(url, { token: authToken, json: record })
    t.print.exchange(third)
    checkAuthorized(t, third, SCOPES.authorized)
    t.tokens.set('auth', authToken)
  },
}

const stepUp: Step = {
  title: 'Step-up: A Scope the Auth Token Lacks',
  description: `A route needing ${SCOPES.admin}: the auth token is answered with a new resource token for the wider grant.`,
  async run(t) {
    const d = t.delegates.first
    const authToken = t.tokens.get('auth')
    if (!t.check(authToken !== undefined, 'an auth token from the previous step') || authToken === undefined) return
    const url = t.stack.resource + PATHS.admin + '/audit'
    const first = await d.call(url, { token: authToken })
    t.print.exchange(first)
    const wider = `${SCOPES.authorized} ${SCOPES.admin}`
    const rt = await resourceTokenFrom(t, first, authToken, wider)
    if (rt === undefined) return
    const widerToken = await exchange(t, (await personServerEndpoints(t)).auth, rt, authToken)
    if (widerToken === undefined) return
    const second = await d.call(url, { token: widerToken })
    t.print.exchange(second)
    checkAuthorized(t, second, wider)
  },
}

export const AUTHORIZED_STEPS: readonly Step[] = [authorized, stepUp]

import { getJson } from '../devkit/http.js'
import { backendSaw, expectRequirement, jsonMember } from './observe.js'
import type { Step } from './run.js'
import { PATHS, SCOPES } from './stack.js'

/**
 * Resource-managed access (AAuth -11 "Resource-Managed Access (Two-Party)"): the delegate asks
 * the gateway's authorization endpoint for a scope with a person token; the `grant` policy
 * allows, so the gateway grants it itself with an `AAuth-Access` session token, which the
 * delegate then presents in a signed `Authorization: AAuth`. Another key cannot use it.
 */
const resourceManaged: Step = {
  title: 'Resource-Managed Access: Authorization Endpoint and Session Token',
  description: `The gateway grants ${SCOPES.session} itself (grant policy), returning a session token bound to the delegate's key.`,
  async run(t) {
    const d = t.delegates.first
    const { resource } = t.stack
    const meta = await getJson(`${resource}/.well-known/aauth-resource.json`)
    const endpoint = String(meta.authorization_endpoint)
    t.check(endpoint === `${resource}/aauth/authorize`, `metadata authorization_endpoint: ${endpoint}`)
    const url = resource + PATHS.session + '/today'

    const first = await d.call(url, { token: d.agentToken })
    t.print.exchange(first)
    expectRequirement(t, first, 'requirement=person-token')

    const ps = await getJson(`${t.stack.personServer.origin}/.well-known/aauth-person.json`)
    const pt = await d.call(String(ps.person_token_endpoint), { token: d.agentToken, json: { resource: meta.issuer } })
    const personToken = jsonMember(pt, 'person_token')
    if (!t.check(pt.status === 200 && personToken !== undefined, 'person token issued') || personToken === undefined) return

    const grant = await d.call(endpoint, { token: personToken, json: { scope: SCOPES.session } })
    t.print.exchange(grant)
    const session = grant.headers.get('aauth-access')
    const status = jsonMember(grant, 'status')
    if (!t.check(grant.status === 200 && status === 'authorized' && session !== null, `${grant.status} status ${status}, AAuth-Access present`) || session === null) return

    const second = await d.call(url, { token: d.agentToken, session })
    t.print.exchange(second)
    const saw = backendSaw(second)
    t.check(second.status === 200 && saw?.['x-aauth-scope'] === SCOPES.session, `${second.status}; backend sees X-AAuth-Scope: ${saw?.['x-aauth-scope']}`)
    t.check(saw?.['x-aauth-user'] === t.stack.personServer.directedSub(resource), `backend sees X-AAuth-User: ${saw?.['x-aauth-user']}`)

    const other = t.delegates.second
    if (other.agentToken === undefined) await other.obtainAgentToken(t.stack.agentServer.origin)
    const stolen = await other.call(url, { token: other.agentToken, session })
    t.print.exchange(stolen)
    t.check(stolen.status === 401 && backendSaw(stolen) === undefined, `another delegate's key with the same session: ${stolen.status}`)
  },
}

export const SESSION_STEPS: readonly Step[] = [resourceManaged]

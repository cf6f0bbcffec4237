import { calculateJwkThumbprint, decodeJwt, decodeProtectedHeader } from 'jose'
import { AUTHORIZED_STEPS } from './authorized.js'
import { SESSION_STEPS } from './session.js'
import type { Delegate } from './delegate.js'
import { backendSaw, expectRequirement, expectSignatureError } from './observe.js'
import { short } from './print.js'
import type { Step, StepContext } from './run.js'
import { PATHS } from './stack.js'

/**
 * The agent-delegation scenario, one step per exchange the seed demo shows and the gateway
 * adds: agent token, pseudonymous, identified, a second delegate, then the refusals.
 */

const agentToken: Step = {
  title: 'Delegate Requests Agent Token',
  description: 'The delegate sends its public key to the agent server and gets an aa-agent+jwt binding it.',
  async run(t) {
    const d = t.delegates.first
    const ex = await d.obtainAgentToken(t.stack.agentServer.origin)
    t.print.exchange(ex)
    if (!t.check(ex.status === 200 && d.agentToken !== undefined, 'agent token obtained') || d.agentToken === undefined) return
    t.print.line()
    t.print.token('Agent token', d.agentToken)
    const header = decodeProtectedHeader(d.agentToken)
    const claims = decodeJwt(d.agentToken)
    const cnf = (claims.cnf as { jwk?: { x?: unknown } } | undefined)?.jwk
    const headerOk = header.typ === 'aa-agent+jwt' && header.alg === 'Ed25519' && typeof header.kid === 'string'
    t.check(headerOk, `header typ ${header.typ}, alg ${header.alg}, kid ${header.kid}`)
    t.check(claims.iss === t.stack.agentServer.origin, `iss is the agent server: ${claims.iss}`)
    t.check(claims.dwk === 'aauth-agent.json', 'dwk names the agent metadata: aauth-agent.json')
    t.check(claims.sub === d.id, `sub is the delegate: ${claims.sub}`)
    t.check(cnf?.x === d.key.publicJwk.x, "cnf.jwk is the delegate's own key")
    t.check(typeof claims.jti === 'string' && (claims.exp ?? 0) - (claims.iat ?? 0) === 3600, 'jti present; expires one hour after iat')
  },
}

const pseudonymous: Step = {
  title: 'Pseudonymous Call (hwk)',
  description: 'A bare inline key proves possession only: enough for a pseudonymous route, not an identified one.',
  async run(t) {
    const d = t.delegates.first
    const ex = await d.call(t.stack.resource + PATHS.pseudonymous)
    t.print.exchange(ex)
    const saw = backendSaw(ex)
    t.check(ex.status === 200, `${PATHS.pseudonymous} answered ${ex.status}`)
    const [level, scheme] = [saw?.['x-aauth-level'], saw?.['x-aauth-scheme']]
    t.check(level === 'pseudonymous' && scheme === 'hwk', `backend sees X-AAuth-Level: ${level}, X-AAuth-Scheme: ${scheme}`)
    t.check(saw !== undefined && saw['x-aauth-agent'] === undefined, 'no agent identity reaches the backend')
    const up = await d.call(t.stack.resource + PATHS.identified + '/items')
    t.print.exchange(up)
    expectRequirement(t, up, 'requirement=agent-token')
  },
}

/** The identified call every delegate makes; checks the identity the backend received. */
async function identifiedCall(t: StepContext, d: Delegate): Promise<Record<string, string> | undefined> {
  const ex = await d.call(t.stack.resource + PATHS.identified + '/items', { token: d.agentToken })
  t.print.exchange(ex)
  const saw = backendSaw(ex)
  t.check(ex.status === 200, `${PATHS.identified}/items answered ${ex.status}`)
  t.check(saw?.['x-aauth-level'] === 'identified', 'backend sees X-AAuth-Level: identified')
  t.check(saw?.['x-aauth-agent'] === t.stack.agentServer.origin, `backend sees X-AAuth-Agent: ${saw?.['x-aauth-agent']} (the agent server)`)
  t.check(saw?.['x-aauth-agent-delegate'] === d.id, `backend sees X-AAuth-Agent-Delegate: ${saw?.['x-aauth-agent-delegate']}`)
  return saw
}

const identified: Step = {
  title: 'Delegate Accesses Resource Using Agent Token',
  description: 'The delegate signs with its own key and presents its agent token, checked against the agent server JWKS.',
  async run(t) {
    const saw = await identifiedCall(t, t.delegates.first)
    t.check(saw?.['x-aauth-token-type'] === 'aa-agent+jwt', 'backend sees X-AAuth-Token-Type: aa-agent+jwt')
  },
}

const secondDelegate: Step = {
  title: 'Second Delegate of the Same Agent',
  description: 'Another instance with another key gets its own agent token: same agent, different delegate, no shared key.',
  async run(t) {
    const d = t.delegates.second
    t.print.exchange(await d.obtainAgentToken(t.stack.agentServer.origin))
    const saw = await identifiedCall(t, d)
    const mine = await calculateJwkThumbprint(d.key.publicJwk)
    const first = await calculateJwkThumbprint(t.delegates.first.key.publicJwk)
    const ok = saw?.['x-aauth-thumbprint'] === mine && mine !== first
    t.check(ok, `its own key: X-AAuth-Thumbprint ${short(mine, 12)} (delegate-1: ${short(first, 12)})`)
  },
}

const tampered: Step = {
  title: 'Tampered Request',
  description: 'The path is changed after signing; the signature no longer matches the request.',
  async run(t) {
    const d = t.delegates.first
    const tamperedPath = PATHS.identified + '/all-accounts'
    const ex = await d.call(t.stack.resource + PATHS.identified + '/items', { token: d.agentToken, tamperedPath })
    t.print.exchange(ex)
    expectSignatureError(t, ex, 'invalid_signature')
    t.check(backendSaw(ex) === undefined, 'the backend never saw it')
  },
}

const expired: Step = {
  title: 'Expired Agent Token',
  description: 'A token the agent server issued two hours ago (valid one hour) is refused, though the request signature is fresh.',
  async run(t) {
    const d = t.delegates.first
    const old = await t.stack.agentServer.issue(d.id, d.key.publicJwk, Math.floor(Date.now() / 1000) - 7200)
    t.print.token('Old agent token', old)
    const ex = await d.call(t.stack.resource + PATHS.identified + '/items', { token: old })
    t.print.exchange(ex)
    expectSignatureError(t, ex, 'expired_jwt')
  },
}

const revoked: Step = {
  title: 'Revoked Delegate Denied by Policy',
  description: 'A delegate with a valid agent token whose id the "delegates" policy denies (revoked-*): 403, no challenge.',
  async run(t) {
    const d = t.delegates.revoked
    t.print.exchange(await d.obtainAgentToken(t.stack.agentServer.origin))
    const ex = await d.call(t.stack.resource + PATHS.identified + '/items', { token: d.agentToken })
    t.print.exchange(ex)
    const problem = JSON.parse(ex.text) as { policy?: unknown }
    t.check(ex.status === 403 && problem.policy === 'delegates', `403 by policy ${String(problem.policy)}`)
    const quiet = ex.headers.get('signature-error') === null && ex.headers.get('aauth-requirement') === null
    t.check(quiet, 'no Signature-Error, no AAuth-Requirement: nothing to retry')
  },
}

export const STEPS: readonly Step[] = [
  agentToken,
  pseudonymous,
  identified,
  secondDelegate,
  tampered,
  expired,
  revoked,
  ...AUTHORIZED_STEPS,
  ...SESSION_STEPS,
]

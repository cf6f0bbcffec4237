import { LocalReplyError, RequirementError } from '../errors.js'
import { AUTHORIZATION_PATH } from '../resource/metadata.js'
import { aauthCredential, checkSession, issueSession, type SessionRefusal } from '../resource/session-token.js'
import type { CompiledRoute } from '../routes/route.js'
import type { RequestContext } from './context.js'
import { routeOf } from './route.js'

/** Whether the route is resource-managed (AAuth -11 access mode `session-token`). */
export function isSessionRoute(route: CompiledRoute): boolean {
  return route.access === 'session-token'
}

const REFUSED: Record<SessionRefusal, string> = {
  malformed: 'the session token is not a token68',
  unknown: 'the session token is not one this resource issued, or it was withdrawn',
  expired: 'the session token has expired',
  other_key: 'the session token was issued to another signing key',
}

/**
 * On a `session-token` route, the session the agent presents in `Authorization: AAuth <token68>`
 * (AAuth -11 "AAuth-Access Response Header"). Runs after the signature was verified, which
 * already refused an `Authorization: AAuth` the signature does not cover (`invalid_input`). A
 * session is accepted only when signed by the key it was issued to; it then stands for the
 * person and scopes granted at the authorization endpoint (`aauth.user`, `aauth.scope`). An
 * unknown, expired or other key's session, or one lacking a route scope, is
 * `401 requirement=person-token`: the agent obtains a new one at the authorization endpoint with
 * a person token. A request with no session goes on to the access stage, where the route takes
 * the `auth-token` ladder. Past half its lifetime, a session is rolled: the answer carries a new
 * `AAuth-Access` value.
 */
export async function checkSessionToken(ctx: RequestContext): Promise<void> {
  const route = routeOf(ctx)
  const settings = ctx.snapshot.resource.authorization
  if (!isSessionRoute(route) || settings === undefined || ctx.signature === null) return
  const credential = aauthCredential(stringField(ctx.req.headers.authorization))
  if (credential === undefined) return
  if (credential === null) throw new LocalReplyError('bad_request', 'Authorization must carry exactly one AAuth credential, a token68 (AAuth -11 "AAuth-Access Response Header")')
  const how = `POST {"scope"} signed with a person token to ${ctx.snapshot.resource.issuer}${AUTHORIZATION_PATH} for a new session`
  const nowMs = (ctx.services.clock ?? Date.now)()
  const now = Math.floor(nowMs / 1000)
  const store = ctx.services.store.replay
  const session = await checkSession(store, credential, ctx.identity.thumbprint, now)
  if (typeof session === 'string') throw new RequirementError('person-token', `${REFUSED[session]}: ${how}`)
  const granted = new Set(session.scope)
  const missing = route.scopes.filter((s) => !granted.has(s))
  if (missing.length > 0) throw new RequirementError('person-token', `the session does not grant ${missing.join(' ')}: ${how}`)
  ctx.identity = { ...ctx.identity, level: 'authorized', user: session.sub, issuer: session.iss, scope: session.scope }
  ctx.session = true
  if (session.exp - now < settings.sessionLifetime / 2) {
    const rolled = await issueSession(store, { ...session, exp: now + settings.sessionLifetime }, now)
    if (rolled !== undefined) ctx.res.setHeader('aauth-access', rolled)
  }
}

function stringField(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value.join(', ') : value
}

import { LocalReplyError, RequirementError, SignatureError } from '../errors.js'
import { readBody, checkBodyDigest } from '../pipeline/body.js'
import type { RequestContext } from '../pipeline/context.js'
import { targetOf } from '../pipeline/context.js'
import { rememberSignature, verifySignature } from '../pipeline/verify.js'
import { buildPolicyContext, policyRequestFrom } from '../policy/context.js'
import { evaluatePolicy } from '../policy/evaluate.js'
import { mintResourceToken } from './resource-token.js'
import { issueSession } from './session-token.js'
import type { AuthorizationSettings } from './settings.js'

/** What the endpoint answers: a 200 body, with the session token for `AAuth-Access` when granted. */
export interface AuthorizationAnswer {
  readonly body: Record<string, unknown>
  readonly sessionToken?: string
}

/** Token errors of the person token: the endpoint's own `invalid_person_token` (400), not a 401. */
const PERSON_TOKEN_ERRORS = new Set(['invalid_jwt', 'expired_jwt', 'revoked_jwt'])

/**
 * `POST {authorization_endpoint}` with `{"scope": "...", "account": "..."}` (AAuth -11
 * "Authorization Endpoint Request" and "Responses"). The agent signs with its person token;
 * then the `resource.authorization.grant` policy, evaluated on that person's identity, decides:
 * allowed, the gateway grants the scopes itself (`{"status":"authorized","scope"}` and an
 * `AAuth-Access` session token bound to the signing key and the person); refused, the answer is
 * `{"resource_token"}` for the person server (or this resource's access server). Errors are the
 * draft's list: `invalid_request`, `invalid_signature` (401), `invalid_person_token`,
 * `invalid_scope`, `invalid_account`, `server_error`; no person token is
 * `401 requirement=person-token`.
 */
export async function handleAuthorization(ctx: RequestContext, settings: AuthorizationSettings, nowMs: number): Promise<AuthorizationAnswer> {
  if (ctx.signed.method !== 'POST') throw new LocalReplyError('method_not_allowed', 'the authorization endpoint takes POST', { allow: ['POST'] })
  await verifySignature(ctx).catch((err: unknown) => {
    if (err instanceof SignatureError && PERSON_TOKEN_ERRORS.has(err.code)) throw new LocalReplyError('invalid_person_token', err.message)
    throw err
  })
  const id = ctx.identity
  if (id.level === 'none') throw new RequirementError('person-token', 'the authorization endpoint needs a request signed with a person token', undefined, true)
  if (id.tokenType !== 'aa-person+jwt') throw new RequirementError('person-token', 'the authorization endpoint needs a person token in Signature-Key')
  await checkBodyDigest(ctx)
  ctx.body ??= await readBody(ctx, ctx.snapshot.maxBodyBytes, 30_000)
  const { scope, account } = parseBody(ctx.body)
  const published = ctx.snapshot.resource.scopes
  const unknown = scope.filter((s) => !Object.hasOwn(published, s))
  if (unknown.length > 0) throw new LocalReplyError('invalid_scope', `this resource does not publish the scope ${unknown.join(' ')}`)
  // The gateway keeps no account namespace of its own: the only accounts it knows a person
  // holds are the person's own identifiers in the person token (`sub`, and `email` if present).
  if (account !== undefined && account !== id.user && account !== id.claims.email) {
    throw new LocalReplyError('invalid_account', 'the account named is not one the person of the person token holds')
  }
  await rememberSignature(ctx)

  const target = targetOf(ctx)
  const policy = settings.grant
  const request = policyRequestFrom(ctx.signed.method, target.path + target.query, ctx.host, ctx.req.headers)
  const decision = evaluatePolicy(policy, buildPolicyContext(id, request, policy.reads, new Date(nowMs)))
  const rule = decision.rule ? `${decision.rule.kind}: ${decision.rule.source}` : undefined
  ctx.policy = { policy: policy.name, result: decision.result, rule, where: decision.rule ? `${decision.rule.file}:${decision.rule.line}` : undefined, error: decision.error }
  const now = Math.floor(nowMs / 1000)
  if (decision.result === 'deny') {
    // Not granted here: the person server (or this resource's access server) decides instead.
    return { body: { resource_token: await mintResourceToken(ctx.snapshot.resource, id, scope, now) } }
  }
  const state = { iss: id.issuer, sub: id.user, jkt: id.thumbprint, scope, exp: now + settings.sessionLifetime, ...(account === undefined ? {} : { account }) }
  const sessionToken = await issueSession(ctx.services.store.replay, state, now)
  if (sessionToken === undefined) throw new LocalReplyError('store_full', 'the gateway holds as many live entries as it keeps', { retryAfterSeconds: 1 })
  return { body: { status: 'authorized', scope: scope.join(' ') }, sessionToken }
}

function parseBody(body: Buffer): { scope: string[]; account: string | undefined } {
  const usage = 'the body must be JSON {"scope": "space-separated scopes", "account"?: string}'
  let parsed: unknown
  try {
    parsed = JSON.parse(body.toString('utf8'))
  } catch {
    throw new LocalReplyError('bad_request', usage)
  }
  const { scope, account } = (parsed !== null && typeof parsed === 'object' ? parsed : {}) as { scope?: unknown; account?: unknown }
  if (typeof scope !== 'string' || (account !== undefined && (typeof account !== 'string' || account === ''))) throw new LocalReplyError('bad_request', usage)
  const scopes = [...new Set(scope.split(' ').filter((s) => s !== ''))]
  if (scopes.length === 0) throw new LocalReplyError('bad_request', `${usage}; scope names none`)
  return { scope: scopes, account }
}

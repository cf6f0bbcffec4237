import { randomBytes } from 'node:crypto'
import type { IncomingHttpHeaders } from 'node:http'
import { request } from 'undici'
import type { CompiledRoute } from '../routes/route.js'
import { LocalReplyError, RequirementError } from '../errors.js'
import { targetOf, type RequestContext } from '../pipeline/context.js'
import { stripHopByHop } from '../request/headers.js'
import type { ValueStore } from '../store/types.js'
import { upstreamHeaders } from '../proxy/upstream-headers.js'

/**
 * Deferred delivery of `requirement=auth-token` (AAuth -11 §6.5.1 "Deferred Delivery",
 * "Deferred Responses"; docs/access-modes.md). The gateway holds the invocation in the state
 * store under an unguessable id and answers `202` with `Location: /aauth/pending/{id}`; the
 * agent polls that URL with signed `GET`s, and the first poll presenting a valid auth token
 * (signed by the key the resource token names) executes the held request upstream. Its answer
 * is kept, keyed by that auth token's `jti`, until the token's `exp`, and a repeated poll with
 * the same token gets it again rather than a second execution.
 */

/** Where pending requests are polled, on the resource's own origin. */
export const PENDING_PATH_PREFIX = '/aauth/pending/'
/** Seconds a held request waits for its auth token: two resource-token lifetimes. */
export const PENDING_LIFETIME_SECONDS = 600
/** `Retry-After` of a `202`: consent at a person server takes a person some seconds. */
export const PENDING_RETRY_AFTER_SECONDS = 5

/** 128 random bits, base64url: unguessable (-11 "Deferred Responses"). */
const PENDING_ID = /^[A-Za-z0-9_-]{22}$/

/** A held request, waiting for an auth token. */
export interface PendingRequest {
  readonly state: 'pending'
  readonly route: string
  readonly method: string
  /** Path and query, as received. */
  readonly target: string
  /** The request's headers after hygiene (what would have been forwarded). */
  readonly headers: IncomingHttpHeaders
  /** RFC 7638 thumbprint of the key that signed it: every poll must be signed by it. */
  readonly agentJkt: string
  /** The last resource token sent, repeated on polls that do not yet bring an auth token. */
  readonly resourceToken: string
}

/** The upstream's answer to a held request, kept for repeated polls with the same auth token. */
export interface CompletedRequest {
  readonly state: 'completed'
  readonly agentJkt: string
  /** The `jti` of the auth token that completed it. */
  readonly jti: string
  readonly status: number
  readonly headers: Record<string, string | string[]>
  /** base64 */
  readonly body: string
}

export type PendingRecord = PendingRequest | CompletedRequest

/** Whether an agent asked to wait (RFC 7240 `Prefer: respond-async` or `wait=N`, -11 "Initial Request"). */
export function prefersDeferred(headers: IncomingHttpHeaders): boolean {
  const prefer = headers.prefer
  if (prefer === undefined) return false
  return /(^|[,;\s])(respond-async|wait\s*=\s*\d+)\s*(?=$|[,;])/i.test(String(prefer))
}

/**
 * Turns an `auth-token` challenge into its deferred form when the route allows it, the agent
 * asked to wait, the request has no body (the gateway keeps no bodies) and the store can hold
 * values; otherwise returns the `401` challenge unchanged.
 */
export async function deferChallenge(ctx: RequestContext, route: CompiledRoute, challenge: RequirementError): Promise<RequirementError> {
  const store = ctx.services.store.pending
  if (!route.deferred || store === undefined || challenge.resourceToken === undefined) return challenge
  if (ctx.hasBody || !prefersDeferred(ctx.req.headers)) return challenge
  const target = targetOf(ctx)
  const id = randomBytes(16).toString('base64url')
  const record: PendingRequest = {
    state: 'pending',
    route: route.name,
    method: ctx.signed.method,
    target: target.path + target.query,
    headers: { ...ctx.req.headers },
    agentJkt: ctx.identity.thumbprint,
    resourceToken: challenge.resourceToken,
  }
  await store.put(id, JSON.stringify(record), PENDING_LIFETIME_SECONDS)
  return challenge.deferTo(PENDING_PATH_PREFIX + id, PENDING_RETRY_AFTER_SECONDS)
}

/** The pending id of a poll's path, or a 404 for anything that cannot be one. */
export function pendingIdOf(path: string): string {
  const id = path.slice(PENDING_PATH_PREFIX.length)
  if (!PENDING_ID.test(id)) throw new LocalReplyError('pending_unknown', 'no pending request at this URL')
  return id
}

export async function readPending(store: ValueStore, id: string): Promise<PendingRecord | undefined> {
  const text = await store.get(id)
  return text === undefined ? undefined : (JSON.parse(text) as PendingRecord)
}

/**
 * Executes a held request upstream with the poll's identity, reading the whole answer (up to
 * `signatures.max_body_bytes`, since it must be kept): `ctx` is the held request's context.
 */
export async function executeHeld(ctx: RequestContext, route: CompiledRoute): Promise<Omit<CompletedRequest, 'state' | 'agentJkt' | 'jti'>> {
  const target = targetOf(ctx)
  const headers = upstreamHeaders(ctx, route)
  if (headers.host === '') delete headers.host
  let answer
  try {
    answer = await request(route.upstreamOrigin + route.upstreamPathPrefix + target.path + target.query, {
      method: ctx.signed.method as 'GET',
      headers: headers as Record<string, string | string[]>,
      headersTimeout: route.timeoutMs,
      bodyTimeout: route.timeoutMs,
    })
  } catch (err) {
    throw new LocalReplyError('upstream_unreachable', 'the upstream could not be reached').withInternal(`${route.upstreamOrigin}: ${(err as Error).message}`)
  }
  const chunks: Buffer[] = []
  let size = 0
  for await (const chunk of answer.body as AsyncIterable<Buffer>) {
    size += chunk.length
    if (size > ctx.snapshot.maxBodyBytes) {
      answer.body.destroy()
      throw new LocalReplyError('upstream_unreachable', 'the answer to the held request is too large to keep').withInternal(
        `more than signatures.max_body_bytes (${ctx.snapshot.maxBodyBytes}) from ${route.upstreamOrigin}`,
      )
    }
    chunks.push(chunk)
  }
  const kept: Record<string, string | string[]> = {}
  for (const [name, value] of Object.entries(answer.headers)) if (value !== undefined) kept[name] = value
  stripHopByHop(kept)
  delete kept['content-length']
  return { status: answer.statusCode, headers: kept, body: Buffer.concat(chunks).toString('base64') }
}

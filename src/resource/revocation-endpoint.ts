import { LocalReplyError, SignatureError } from '../errors.js'
import type { RequestContext } from '../pipeline/context.js'
import { checkBodyDigest } from '../pipeline/body.js'
import { rememberSignature, verifySignature } from '../pipeline/verify.js'
import { longestRevocableLifetime, revocationKey } from './revocation-check.js'


/** Servers sign revocations as themselves, under the metadata document of their role. */
const SERVER_DOCUMENTS = new Set(['aauth-person.json', 'aauth-access.json'])

/**
 * Handles `POST {revocation_endpoint}` with `{"jti": "...", "exp": <int>}`. The issuer is the
 * verified caller (a `jwks_uri` signature by a trusted person or access server), never a body
 * field. Answers 200 with an empty body; there is no 404 (unknown `jti`s are simply recorded).
 * Bounded (docs/replay-and-revocation.md): an `exp` further ahead than any revocable token can
 * live is 400; an issuer at `signatures.revocation.max_per_issuer` live revocations is 429, a
 * store at `max_entries` is 503, both with `Retry-After`; a live revocation is never dropped.
 */
export async function handleRevocation(ctx: RequestContext): Promise<void> {
  if (ctx.signed.method !== 'POST') throw new LocalReplyError('method_not_allowed', 'the revocation endpoint takes POST', { allow: ['POST'] })
  ctx.keyConfig = ctx.snapshot.revocationView
  await verifySignature(ctx)
  const caller = ctx.identity
  const dwk = ctx.signature?.key.params.get('dwk')
  if (caller.level === 'none' || caller.scheme !== 'jwks_uri' || typeof dwk !== 'string' || !SERVER_DOCUMENTS.has(dwk)) {
    if (caller.level === 'none') throw new SignatureError('invalid_signature', 'a revocation must be signed')
    throw new LocalReplyError('unsupported_iss', 'revocations are accepted from trusted person and access servers signing with jwks_uri')
  }
  await checkBodyDigest(ctx)
  await rememberSignature(ctx)
  const { jti, exp } = parseBody(ctx.body)
  const now = Math.floor(Date.now() / 1000)
  const { window } = ctx.snapshot.resource.signatures
  // No token accepted here outlives this: `iat` may be up to `window` ahead, then `maxLifetime`.
  const furthest = longestRevocableLifetime() + window
  if (exp - now > furthest) {
    throw new LocalReplyError('bad_request', `exp is more than ${furthest} s ahead; no revocable token accepted here lives that long`)
  }
  const ttl = exp - now + window
  if (ttl <= 0) return
  // Grouped by issuer, so one server cannot crowd out the others' revocations.
  const remembered = await ctx.services.store.revoked.remember(revocationKey(caller.agent, jti), ttl, caller.agent)
  if (remembered.outcome !== 'full') return
  const { retryAfterSeconds } = remembered
  if (remembered.bound === 'group') {
    throw new LocalReplyError('rate_limited', 'this issuer holds as many unexpired revocations as the gateway keeps per issuer', { retryAfterSeconds })
  }
  throw new LocalReplyError('store_full', 'the gateway holds as many unexpired revocations as it keeps', { retryAfterSeconds })
}

function parseBody(body: Buffer | undefined): { jti: string; exp: number } {
  let parsed: unknown
  try {
    parsed = JSON.parse(body?.toString('utf8') ?? '')
  } catch {
    throw new LocalReplyError('bad_request', 'the body must be JSON {"jti": string, "exp": integer}')
  }
  const { jti, exp } = (parsed ?? {}) as { jti?: unknown; exp?: unknown }
  if (typeof jti !== 'string' || jti === '' || typeof exp !== 'number' || !Number.isSafeInteger(exp)) {
    throw new LocalReplyError('bad_request', 'the body must be JSON {"jti": string, "exp": integer}')
  }
  return { jti, exp }
}

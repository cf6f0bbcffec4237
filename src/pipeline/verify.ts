import { resolveKey } from '../keys/resolve.js'
import type { ResolveContext } from '../keys/types.js'
import { checkNotReplayed } from '../replay/check.js'
import { replayKey } from '../replay/store.js'
import { checkCoveredComponents } from '../signature/components.js'
import { checkFreshness } from '../signature/freshness.js'
import { parseSignatureHeaders } from '../signature/parse.js'
import { verifyRequestSignature } from '../signature/verify.js'
import { SignatureError } from '../errors.js'
import type { ParsedSignature, VerifyKey } from '../signature/types.js'
import { checkNotRevoked } from '../resource/revocation-check.js'
import type { RequestContext } from './context.js'
import { routeOf } from './route.js'

/**
 * `Authorization: AAuth <token>` (AAuth -11 §6.6): the signature must cover it when present.
 * Found anywhere in the field: repeated field lines reach here joined with `, ` (the listener
 * joins duplicates), so `Bearer x` + `AAuth y` is `Bearer x, AAuth y`, and a credential never
 * holds a `,` itself (RFC 9110 §11.4 token68 / auth-param syntax).
 */
const AAUTH_AUTHORIZATION = /(^|,)\s*aauth(\s|,|$)/i

/**
 * RFC 9421 + Signature-Key verification, in the order of AAuth -11 "Verification (Server)":
 * headers, covered components, `created` window, scheme and key, signature. The body (against
 * `Content-Digest`) and replay come later, once access and policy allowed the request
 * (`checkBodyDigest`, `rememberSignature`). An unsigned request leaves the identity anonymous;
 * the access stage decides what that means.
 */
export async function verifySignature(ctx: RequestContext): Promise<void> {
  const { signed, services } = ctx
  const route = routeOf(ctx)
  const config = ctx.keyConfig
  const parsed = parseSignatureHeaders(signed.headers, { legacy: config.signatures.legacy })
  const aauthAuthorization = AAUTH_AUTHORIZATION.test(String(signed.headers.authorization ?? ''))
  if (parsed === null) {
    // Nothing vouches for an unsigned AAuth credential: the backend never sees it.
    if (aauthAuthorization) delete ctx.req.headers.authorization
    return
  }
  ctx.signature = parsed

  const started = process.hrtime.bigint()
  const now = Math.floor(Date.now() / 1000)
  checkCoveredComponents(parsed, aauthAuthorization ? [...route.requiredComponents, 'authorization'] : route.requiredComponents)
  checkFreshness(parsed, now, config.signatures.window)
  const resolveContext: ResolveContext = { config, now: () => now, services: services.keys }
  const resolved = await resolveKey(parsed.key, resolveContext)
  await checkNotRevoked(resolved.identity, services.store.revoked)
  const base = await verifyRequestSignature(parsed, signed, resolved.key).catch((err: unknown) =>
    explainAuthority(err, parsed, ctx, resolved.key),
  )
  services.metrics.verified(resolved.identity.scheme, Number(process.hrtime.bigint() - started) / 1e9)
  ctx.replayKey = replayKey(resolved.key.thumbprint, base)
  ctx.identity = { ...resolved.identity, thumbprint: resolved.key.thumbprint }
}

/**
 * Records a verified signature as used, last of all checks: only requests that proved their
 * identity, met the route's access level and passed its policy and body check take a place in
 * the store, so refused requests cannot fill it (docs/replay-and-revocation.md).
 */
export async function rememberSignature(ctx: RequestContext): Promise<void> {
  if (ctx.replayKey === undefined) return
  // `created` is accepted up to `window` either side of now, so an entry must outlive both.
  await checkNotReplayed(ctx.services.store.replay, ctx.replayKey, 2 * ctx.keyConfig.signatures.window, ctx.services.metrics)
}

/**
 * A signature that fails is retried once over the request's own `Host` as `@authority`, only to
 * tell the agent what went wrong: the commonest mistake is signing the address it connected to
 * (a load balancer, `localhost:8080`) instead of the resource's public authority
 * (`resource.authority`, RFC 9421 §2.2.3). The request is refused either way; a bad signature
 * costs at most two verifications, and only when `Host` differs from the authority.
 */
async function explainAuthority(err: unknown, parsed: ParsedSignature, ctx: RequestContext, key: VerifyKey): Promise<never> {
  const host = ctx.host.toLowerCase()
  const expected = ctx.signed.authority
  if (!(err instanceof SignatureError) || err.code !== 'invalid_signature' || host === '' || host === expected) throw err
  if (!parsed.components.includes('@authority')) throw err
  const signedHost = await verifyRequestSignature(parsed, { ...ctx.signed, authority: host }, key).then(
    () => true,
    () => false,
  )
  if (!signedHost) throw err
  throw new SignatureError(
    'invalid_signature',
    `the signature covers @authority "${host}" (this request's Host), but this resource's @authority is "${expected}": sign with "${expected}"`,
  )
}

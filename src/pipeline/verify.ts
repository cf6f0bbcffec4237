import { resolveKey } from '../keys/resolve.js'
import type { ResolveContext } from '../keys/types.js'
import { checkNotReplayed } from '../replay/check.js'
import { replayKey } from '../replay/store.js'
import { checkCoveredComponents } from '../signature/components.js'
import { checkContentDigest } from '../signature/digest.js'
import { checkFreshness } from '../signature/freshness.js'
import { parseSignatureHeaders } from '../signature/parse.js'
import { verifyRequestSignatureAsync } from '../signature/verify.js'
import { checkNotRevoked } from '../resource/revocation.js'
import { readBody } from './body.js'
import type { RequestContext } from './context.js'
import { routeOf } from './route.js'

/**
 * RFC 9421 + Signature-Key verification, in the order of AAuth -11 "Verification (Server)":
 * headers, covered components, `created` window, scheme and key, signature; then the body
 * against `Content-Digest` (only once the signature proved the digest header is the agent's),
 * then replay (only valid requests are remembered, so forgeries cannot fill the store).
 * An unsigned request leaves the identity anonymous; the access stage decides what that means.
 */
export async function verifySignature(ctx: RequestContext): Promise<void> {
  const { snapshot, signed, services } = ctx
  const route = routeOf(ctx)
  const config = ctx.keyConfig
  const parsed = parseSignatureHeaders(signed.headers, { legacy: config.signatures.legacy })
  if (parsed === null) return
  ctx.signature = parsed

  const started = process.hrtime.bigint()
  const now = Math.floor(Date.now() / 1000)
  checkCoveredComponents(parsed, route.requiredComponents)
  checkFreshness(parsed, now, config.signatures.window)
  const resolveContext: ResolveContext = { config, now: () => now, services: services.keys }
  const resolved = await resolveKey(parsed.key, resolveContext)
  await checkNotRevoked(resolved.identity, services.revoked)
  const base = await verifyRequestSignatureAsync(parsed, signed, resolved.key)
  services.metrics.verifyDuration.observe(
    { scheme: resolved.identity.scheme },
    Number(process.hrtime.bigint() - started) / 1e9,
  )

  if (parsed.components.includes('content-digest')) {
    ctx.body = await readBody(ctx.req, snapshot.maxBodyBytes)
    checkContentDigest(signed.headers['content-digest'], ctx.body)
  }

  const key = replayKey(resolved.key.thumbprint, base)
  // `created` is accepted up to `window` either side of now, so an entry must outlive both.
  await checkNotReplayed(services.replay, key, 2 * config.signatures.window, services.metrics)
  ctx.identity = { ...resolved.identity, thumbprint: resolved.key.thumbprint }
}

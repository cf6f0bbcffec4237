import type { ResolveContext, ResolvedKey } from '../keys/types.js'
import { verifyAAuthJwt } from './common.js'

/**
 * Verifies a JWT from `Signature-Key: jwt` and returns its `cnf.jwk` with the identity it
 * establishes. A token already verified under this config snapshot is served from the
 * verified-token cache (still rechecked against `exp`). Throws `SignatureError`.
 */
export async function verifyToken(jwt: string, ctx: ResolveContext): Promise<ResolvedKey> {
  const cached = ctx.services.tokens.get(jwt, ctx)
  if (cached !== undefined) return cached
  const { resolved, exp } = await verifyAAuthJwt(jwt, ctx)
  ctx.services.tokens.set(jwt, resolved, exp, ctx)
  return resolved
}

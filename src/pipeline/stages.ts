import { rememberSignature, verifySignature } from './verify.js'
import { checkAccess } from './access.js'
import { checkRateLimit } from './rate-limit.js'
import { applyPolicy } from './policy.js'
import { checkBodyDigest } from './body.js'
import type { RequestContext } from './context.js'

/** A stage reads and fills the context; it stops the request by throwing a `GatewayError`. */
export type Stage = (ctx: RequestContext) => void | Promise<void>

/**
 * The request path after routing, in order. Before these, `src/proxy/handler.ts` runs
 * `checkMessage` (a target or `Host` a backend could read differently is refused before
 * anything looks at it, and forged identity and hop-by-hop headers go before any stage could
 * read or forward them), then `matchRoute` (a request for no route costs no crypto and learns
 * nothing about keys; the resource's own documents are answered there). Why this order:
 *  1. the signature is verified before access is judged, so a broken signature is reported as
 *     such (`Signature-Error`) rather than as a missing requirement;
 *  2. the access level (and its challenge) comes before policy, so a policy only ever sees the
 *     identity the route asked for, and a 403 never hides a 401 the agent could act on;
 *  3. the rate limit counts a request as soon as its identity is established, before the
 *     policy: what it counts is who is calling, whatever the policy then says of the call;
 *  4. the body is read (for `Content-Digest`) only for a request that would be let through;
 *  5. the signature is remembered against replay last, so only such requests fill the store.
 */
export const routeStages: readonly Stage[] = [
  verifySignature,
  checkAccess,
  checkRateLimit,
  applyPolicy,
  checkBodyDigest,
  rememberSignature,
]

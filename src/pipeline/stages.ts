import { checkMessage } from './message.js'
import { matchRoute } from './route.js'
import { rememberSignature, verifySignature } from './verify.js'
import { checkAccess } from './access.js'
import { checkRateLimit } from './rate-limit.js'
import { applyPolicy } from './policy.js'
import { checkBodyDigest } from './body.js'
import type { RequestContext } from './context.js'

/** A stage reads and fills the context; it stops the request by throwing a `GatewayError`. */
export type Stage = (ctx: RequestContext) => void | Promise<void>

/**
 * The request path, in order. Why this order:
 *  1. the message first: a target or `Host` a backend could read differently is refused before
 *     anything looks at it, and forged identity and hop-by-hop headers go before any stage
 *     could read or forward them;
 *  2. routing next: a request for no route costs no crypto and learns nothing about keys;
 *  3. the signature is verified before access is judged, so a broken signature is reported as
 *     such (`Signature-Error`) rather than as a missing requirement;
 *  4. the access level (and its challenge) comes before policy, so a policy only ever sees the
 *     identity the route asked for, and a 403 never hides a 401 the agent could act on;
 *  5. the rate limit counts a request as soon as its identity is established, before the
 *     policy: what it counts is who is calling, whatever the policy then says of the call;
 *  6. the body is read (for `Content-Digest`) only for a request that would be let through;
 *  7. the signature is remembered against replay last, so only such requests fill the store.
 */
export const stages: readonly Stage[] = [
  checkMessage,
  matchRoute,
  verifySignature,
  checkAccess,
  checkRateLimit,
  applyPolicy,
  checkBodyDigest,
  rememberSignature,
]

/**
 * The stages after `checkMessage`: the handler runs that one first, then serves the resource's
 * own endpoints (well-known documents, revocation), then these.
 */
export const routeStages: readonly Stage[] = stages.slice(1)

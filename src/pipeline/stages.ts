import { matchRoute, stripForgedIdentity } from './route.js'
import { verifySignature } from './verify.js'
import { checkAccess } from './access.js'
import { applyPolicy } from './policy.js'
import type { RequestContext } from './context.js'

/** A stage reads and fills the context; it stops the request by throwing a `GatewayError`. */
export type Stage = (ctx: RequestContext) => void | Promise<void>

/**
 * The request path, in order. Why this order:
 *  1. routing first: a request for no route costs no crypto and learns nothing about keys;
 *  2. forged `x-aauth-*` headers go before any stage could read or forward them;
 *  3. the signature is verified before access is judged, so a broken signature is reported as
 *     such (`Signature-Error`) rather than as a missing requirement;
 *  4. the access level (and its challenge) comes before policy, so a policy only ever sees the
 *     identity the route asked for, and a 403 never hides a 401 the agent could act on.
 */
export const stages: readonly Stage[] = [matchRoute, stripForgedIdentity, verifySignature, checkAccess, applyPolicy]

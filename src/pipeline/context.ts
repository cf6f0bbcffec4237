import type { IncomingMessage, ServerResponse } from 'node:http'
import type { CompiledRoute, ResourceIdentity, Snapshot } from '../config/compile.js'
import { ANONYMOUS, type Identity } from '../identity.js'
import type { GatewayServices } from '../services.js'
import type { ParsedSignature, SignedRequest } from '../signature/types.js'
import type { PolicyOutcome } from './policy.js'

/**
 * Per-request state that flows through the stages. Stages fill it in order; nothing outside a
 * request reads it. The snapshot is fixed at request start, so a reload mid-request is invisible.
 */
export interface RequestContext {
  readonly req: IncomingMessage
  readonly res: ServerResponse
  readonly snapshot: Snapshot
  readonly services: GatewayServices
  /** `process.hrtime.bigint()` at arrival. */
  readonly startedAt: bigint
  /** The public request as the agent signed it (authority from `resource.authority`). */
  readonly signed: SignedRequest
  route: CompiledRoute | undefined
  /** What signatures are verified against: the snapshot's resource view, unless a stage narrows it. */
  keyConfig: ResourceIdentity
  signature: ParsedSignature | null
  /** The body, when a stage had to buffer it (content-digest); otherwise it streams upstream. */
  body: Buffer | undefined
  identity: Identity
  policy: PolicyOutcome | undefined
}

export function createContext(
  req: IncomingMessage,
  res: ServerResponse,
  snapshot: Snapshot,
  services: GatewayServices,
): RequestContext {
  const url = req.url ?? '/'
  const q = url.indexOf('?')
  const rawPath = q === -1 ? url : url.slice(0, q)
  return {
    req,
    res,
    snapshot,
    services,
    startedAt: process.hrtime.bigint(),
    signed: {
      method: req.method ?? 'GET',
      authority: snapshot.resource.authority,
      path: rawPath === '' ? '/' : rawPath,
      query: q === -1 ? '?' : url.slice(q),
      headers: req.headers,
    },
    route: undefined,
    keyConfig: snapshot.resource,
    signature: null,
    body: undefined,
    identity: ANONYMOUS,
    policy: undefined,
  }
}

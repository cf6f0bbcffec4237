import type { IncomingMessage, ServerResponse } from 'node:http'
import type { Socket } from 'node:net'
import type { CompiledRoute, ResourceIdentity, Snapshot } from '../config/compile.js'
import { ANONYMOUS, type Identity } from '../identity.js'
import { parseRequestTarget, type RequestTarget } from '../request/target.js'
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
  /**
   * The client connection, captured at arrival: `req.socket` does not stay set (undici nulls it
   * on a request body it destroys, so destroying the body does not close the connection).
   */
  readonly socket: Socket
  /** `process.hrtime.bigint()` at arrival. */
  readonly startedAt: bigint
  /**
   * The canonical request target (README "Security model"): what routing, the signature base,
   * CEL and the upstream request all read. A string when the target was refused: the first
   * stage answers it with 400.
   */
  readonly target: RequestTarget | string
  /** The host the request is routed on: an absolute-form target's authority, else `Host`. */
  readonly host: string
  /** Whether the request has a body (`Transfer-Encoding`, or a `Content-Length` above 0). */
  readonly hasBody: boolean
  /** The public request as the agent signed it (authority from `resource.authority`). */
  readonly signed: SignedRequest
  route: CompiledRoute | undefined
  /** What signatures are verified against: the snapshot's resource view, unless a stage narrows it. */
  keyConfig: ResourceIdentity
  signature: ParsedSignature | null
  /** Replay-store key of a verified signature, remembered once every other check passed. */
  replayKey: string | undefined
  /** The body, when a stage had to buffer it (content-digest); otherwise it streams upstream. */
  body: Buffer | undefined
  identity: Identity
  policy: PolicyOutcome | undefined
}

const REFUSED_TARGET = { path: '/', query: '', authority: undefined }

export function createContext(
  req: IncomingMessage,
  res: ServerResponse,
  snapshot: Snapshot,
  services: GatewayServices,
): RequestContext {
  const target = parseRequestTarget(req.url ?? '')
  const t = typeof target === 'string' ? REFUSED_TARGET : target
  const headers = req.headers
  const length = headers['content-length']
  return {
    req,
    res,
    snapshot,
    services,
    socket: req.socket,
    startedAt: process.hrtime.bigint(),
    target,
    host: t.authority ?? headers.host ?? '',
    hasBody: headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0'),
    signed: {
      method: req.method ?? 'GET',
      authority: snapshot.resource.authority,
      path: t.path,
      query: t.query === '' ? '?' : t.query,
      headers,
    },
    route: undefined,
    keyConfig: snapshot.resource,
    signature: null,
    replayKey: undefined,
    body: undefined,
    identity: ANONYMOUS,
    policy: undefined,
  }
}

/** The canonical target; stages after `checkMessage` may rely on it being valid. */
export function targetOf(ctx: RequestContext): RequestTarget {
  if (typeof ctx.target === 'string') throw new Error('stage ran before checkMessage')
  return ctx.target
}

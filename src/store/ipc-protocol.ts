/**
 * The messages between a worker's `IpcStateStore` (src/store/ipc-client.ts) and the primary's
 * `serveStateStore` (src/store/ipc-server.ts), which let the memory store hold across workers
 * (docs/scaling.md "Shared state"). Each message carries every operation a worker asked for in
 * one event-loop turn, so under load one IPC round trip serves many requests.
 *
 * They travel over the cluster's IPC channel, serialised as JSON by Node; the `aauth` member
 * tells them apart from Node's own cluster messages and prom-client's.
 */

/** What a worker may ask of the primary's StateStore (src/store/types.ts). */
export type StoreOp =
  | readonly [id: number, op: 'replay.remember' | 'revoked.remember', key: string, ttlSeconds: number, group: string | null]
  | readonly [id: number, op: 'replay.has' | 'revoked.has', key: string]
  | readonly [id: number, op: 'rates.hit', key: string, limit: number, windowSeconds: number]

/** An operation's outcome: `[id, 1, value]`, or `[id, 0, message]` when the store threw. */
export type StoreResult = readonly [id: number, ok: 1, value: unknown] | readonly [id: number, ok: 0, error: string]

export const STORE_REQUEST = 'store-ops'
export const STORE_REPLY = 'store-results'

export interface StoreRequest {
  readonly aauth: typeof STORE_REQUEST
  readonly ops: readonly StoreOp[]
}

export interface StoreReply {
  readonly aauth: typeof STORE_REPLY
  readonly results: readonly StoreResult[]
}

export function isStoreRequest(message: unknown): message is StoreRequest {
  return typeof message === 'object' && message !== null && (message as { aauth?: unknown }).aauth === STORE_REQUEST && Array.isArray((message as { ops?: unknown }).ops)
}

export function isStoreReply(message: unknown): message is StoreReply {
  return typeof message === 'object' && message !== null && (message as { aauth?: unknown }).aauth === STORE_REPLY && Array.isArray((message as { results?: unknown }).results)
}

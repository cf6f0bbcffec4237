import { LocalReplyError, SignatureError } from '../errors.js'
import type { GatewayMetrics } from '../metrics/metrics.js'
import type { ExpiringKeyStore } from './store.js'

/**
 * Records a verified signature (its `replayKey`) for `ttlSeconds`, refusing a replay with
 * `invalid_signature` (Signature-Key §5; metric reason `replay`). When the store is full of
 * live entries the request is shed with 503 and `Retry-After` rather than let an entry be
 * forgotten early, which would open a replay inside the window (docs/replay-and-revocation.md).
 */
export async function checkNotReplayed(
  store: ExpiringKeyStore,
  key: string,
  ttlSeconds: number,
  metrics: Pick<GatewayMetrics, 'replayRejected' | 'replayStoreFull'>,
): Promise<void> {
  const remembered = await store.remember(key, ttlSeconds)
  if (remembered.outcome === 'added') return
  if (remembered.outcome === 'seen') {
    metrics.replayRejected.inc()
    throw new SignatureError('invalid_signature', 'this signature was already used', { reason: 'replay' })
  }
  metrics.replayStoreFull.inc()
  throw new LocalReplyError('store_full', 'the gateway is at its bound of recently seen signatures; retry later', {
    retryAfterSeconds: remembered.retryAfterSeconds,
  })
}

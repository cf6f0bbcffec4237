import type { Snapshot } from '../config/compile.js'
import type { FailOpenOp } from '../metrics/metrics.js'
import { failOpen } from './fail-open.js'
import { MemoryStateStore } from './memory.js'
import { RedisStateStore, type StoreEvents } from './redis.js'
import type { StateStore } from './types.js'

export interface StoreHooks extends StoreEvents {
  onFailOpen(op: FailOpenOp): void
}

/**
 * The state store the snapshot at start names (`store`, docs/state-store.md), with its bounds
 * from `signatures.replay` and `signatures.revocation`. These are start-only keys: a reload
 * keeps this store (docs/operations.md). A Redis store is connected before this resolves, or
 * found down (an outage, logged and reported) if it cannot be reached in time.
 */
export async function createStateStore(snapshot: Snapshot, hooks: StoreHooks): Promise<StateStore> {
  const settings = snapshot.store
  const revocation = snapshot.resource.signatures.revocation
  let store: StateStore
  if (settings.type === 'memory') {
    store = new MemoryStateStore({
      replayMaxEntries: snapshot.replayMaxEntries,
      revocationMaxEntries: revocation.max_entries,
      revocationMaxPerIssuer: revocation.max_per_issuer,
    })
    hooks.onUp(true)
  } else {
    // The schema refuses `type: redis` without a url; this only narrows the type.
    if (settings.url === undefined) throw new Error('store.type redis without store.url')
    const redis = new RedisStateStore({
      url: settings.url,
      keyPrefix: settings.keyPrefix,
      timeoutMs: settings.timeoutMs,
      revocation: { maxEntries: revocation.max_entries, maxPerIssuer: revocation.max_per_issuer },
      events: hooks,
    })
    hooks.onUp(false)
    await redis.start()
    store = redis
  }
  return settings.failOpen ? failOpen(store, hooks.onFailOpen) : store
}

import type { Snapshot } from './compile.js'

/**
 * Config keys applied only when the gateway starts, each with how to read it from a snapshot:
 * the listeners are bound to `listen` and `admin`, the worker processes are forked once
 * (`workers`, docs/scaling.md), Node sets the header limits on the proxy server when it is
 * created, the state store is connected and sized once, and the log format is chosen when
 * the loggers are made (`log.level` does apply live). A reload swaps in everything
 * else; these keep their start values until a restart (docs/operations.md).
 */
const START_ONLY_KEYS: ReadonlyArray<readonly [key: string, read: (s: Snapshot) => string | number]> = [
  ['listen', (s) => `${s.listen.host}:${s.listen.port}`],
  ['admin', (s) => `${s.admin.host}:${s.admin.port}`],
  ['workers', (s) => s.workers],
  ['limits.max_header_bytes', (s) => s.resource.limits.max_header_bytes],
  ['limits.header_timeout', (s) => s.resource.limits.header_timeout],
  ['signatures.replay.max_entries', (s) => s.replayMaxEntries],
  ['signatures.revocation.max_entries', (s) => s.resource.signatures.revocation.max_entries],
  ['signatures.revocation.max_per_issuer', (s) => s.resource.signatures.revocation.max_per_issuer],
  ['store.type', (s) => s.store.type],
  ['store.url', (s) => s.store.url ?? ''],
  ['store.key_prefix', (s) => s.store.keyPrefix],
  ['store.timeout', (s) => s.store.timeoutMs],
  ['store.fail_open', (s) => String(s.store.failOpen)],
  ['log.format', (s) => s.log.format],
]

/**
 * The start-only keys whose value in `next` differs from the one the gateway started with
 * (`started`, not the previous reload's snapshot: a change stays pending on every reload until
 * the process restarts or the file goes back). Empty when a reload applies in full.
 */
export function restartRequiredKeys(started: Snapshot, next: Snapshot): string[] {
  return START_ONLY_KEYS.filter(([, read]) => read(started) !== read(next)).map(([key]) => key)
}

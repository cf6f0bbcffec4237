import { ConfigError } from '../errors.js'
import { createLogger, DEFAULT_LOG_SETTINGS, standardDestination, type OpsLog } from '../log/logger.js'
import type { GatewayMetrics, ReloadResult } from '../metrics/metrics.js'
import { buildSnapshot, type Snapshot } from './compile.js'
import { configSources, fingerprint, type ConfigSources } from './sources.js'
import { restartRequiredKeys } from './start-only.js'
import { directoriesIdentity, watchDirectories, watchedDirectories } from './watch.js'

/** What a check did: `unchanged` when nothing a build reads changed, else how the reload ended. */
export type CheckResult = ReloadResult | 'unchanged'

export interface ReloaderOptions {
  /** Path of the YAML config, as given (a symlink is followed anew on every read). */
  configFile: string
  env: NodeJS.ProcessEnv
  /** Watch the files and check them periodically (serve does); `reload()` works either way. */
  watch: boolean
  metrics: GatewayMetrics
  /** Called after every swap, with the snapshot swapped in and the one it replaced; must not throw. */
  onSwap?: (next: Snapshot, previous: Snapshot) => void
  /** Where reloads (info), restart warnings (warn) and failures (error) are reported. Default: JSON lines on stderr. */
  log?: OpsLog
  /** Milliseconds between periodic checks when watching; 0 turns them off. Default 2 000. */
  pollMs?: number
  /** Milliseconds that file events are gathered into one check (saves come in bursts). Default 200. */
  debounceMs?: number
}

export interface Reloader {
  /** The snapshot new requests get; a reload replaces it in one assignment. */
  readonly current: Snapshot
  /** Builds and swaps in a new snapshot whatever changed (SIGHUP). Rejects only if `onSwap` throws. */
  reload(): Promise<ReloadResult>
  /** Reloads only if what a build reads changed since the last build (file events and the poll). */
  check(): Promise<CheckResult>
  /** Stops watching; the current snapshot stays readable. */
  close(): void
}

export const DEFAULT_POLL_MS = 2000
export const DEFAULT_DEBOUNCE_MS = 200

/**
 * Owns the gateway's current snapshot and everything that replaces it (docs/operations.md):
 *  - `reload()` always builds; an invalid config is logged, counted as `error`, and the old
 *    snapshot keeps serving; keys applied only at start are reported (`restart_required`);
 *  - with `watch`, file events in the directories that hold the config, the policies and the
 *    signing key, and a periodic check that catches events a filesystem never delivers, run
 *    `check()`: a content fingerprint decides whether anything changed, and the watches are
 *    made again whenever a watched directory was replaced (a ConfigMap swap, a renamed dir).
 * Reloads run one at a time, so a slow build can never swap in after a newer one.
 * Throws ConfigError when the initial config is invalid.
 */
export async function createReloader(options: ReloaderOptions): Promise<Reloader> {
  const { configFile, env, metrics } = options
  const log = options.log ?? createLogger(DEFAULT_LOG_SETTINGS, standardDestination(2))
  let sources = configSources(configFile, env)
  // Taken before the build: a change landing during the build then differs from it, and is built.
  let built = fingerprint(sources)
  const started = await buildSnapshot(configFile, env)
  metrics.configLoaded()
  let current = started
  let closed = false

  let tail: Promise<unknown> = Promise.resolve()
  const serially = <T>(task: () => Promise<T>): Promise<T> => {
    const run = tail.then(task)
    tail = run.catch(() => undefined)
    return run
  }

  let unwatch: (() => void) | undefined
  let watched = ''
  /** Reads which files a build would read now, and moves the watches if their directories changed. */
  function refreshSources(): void {
    sources = configSources(configFile, env, sources)
    if (!options.watch || closed) return
    const dirs = watchedDirectories(sources)
    const identity = directoriesIdentity(dirs)
    if (identity === watched && unwatch !== undefined) return
    unwatch?.()
    unwatch = watchDirectories(dirs, schedule)
    watched = identity
  }

  /** Builds from the files whose fingerprint is `print` (taken before the build, as above). */
  async function rebuild(print: string): Promise<ReloadResult> {
    // Recorded whatever the outcome, so an invalid config is not retried until it changes.
    built = print
    let next: Snapshot
    try {
      next = await buildSnapshot(configFile, env)
    } catch (err) {
      metrics.configReloaded('error')
      // Each problem names its file, line and key; `problems` carries them apart for queries.
      const fields = err instanceof ConfigError ? { problems: err.problems } : { err }
      log.error(fields, 'reload failed, keeping the previous config')
      return 'error'
    }
    const previous = current
    current = next
    const pending = restartRequiredKeys(started, next)
    const result: ReloadResult = pending.length > 0 ? 'restart_required' : 'ok'
    metrics.configReloaded(result)
    if (pending.length > 0) {
      log.warn(
        { restart_required: pending },
        `config reloaded, but ${pending.join(', ')} changed and apply only after a restart; the values from start stay in effect`,
      )
    } else {
      log.info({ routes: next.routeNames.length, policies: next.policies.size }, 'config reloaded')
    }
    options.onSwap?.(next, previous)
    return result
  }

  function reload(): Promise<ReloadResult> {
    return serially(async () => {
      refreshSources()
      return rebuild(fingerprint(sources))
    })
  }

  // Checks asked for while one is already queued share it: a burst of events is one check.
  let queued: Promise<CheckResult> | undefined
  function check(): Promise<CheckResult> {
    queued ??= serially(async (): Promise<CheckResult> => {
      queued = undefined
      if (closed) return 'unchanged'
      refreshSources()
      const print = fingerprint(sources)
      return print === built ? 'unchanged' : rebuild(print)
    })
    return queued
  }

  // From a timer nobody awaits: a failure here is logged, never an unhandled rejection.
  const checkFromTimer = (): void => {
    check().catch((err: unknown) => log.error({ err }, 'config check failed'))
  }
  let debounce: NodeJS.Timeout | undefined
  function schedule(): void {
    clearTimeout(debounce)
    debounce = setTimeout(checkFromTimer, options.debounceMs ?? DEFAULT_DEBOUNCE_MS)
    debounce.unref()
  }

  let poll: NodeJS.Timeout | undefined
  if (options.watch) {
    refreshSources()
    const every = options.pollMs ?? DEFAULT_POLL_MS
    if (every > 0) poll = setInterval(checkFromTimer, every).unref()
  }

  return {
    get current(): Snapshot {
      return current
    },
    reload,
    check,
    close(): void {
      closed = true
      clearTimeout(debounce)
      clearInterval(poll)
      unwatch?.()
      unwatch = undefined
    },
  }
}

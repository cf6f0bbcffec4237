import { watch, type FSWatcher } from 'node:fs'
import { dirname, resolve } from 'node:path'
import type { Snapshot } from './compile.js'

/**
 * Calls `reload` when the config file or a file in its policy directory changes. Editors save
 * in bursts (write, rename, chmod), so changes are debounced; a watcher that cannot be set up
 * (e.g. a missing directory) is skipped, since SIGHUP still works.
 */
export function watchConfig(snapshot: Snapshot, policiesDir: string | undefined, reload: () => void, debounceMs = 200): () => void {
  let timer: NodeJS.Timeout | undefined
  const trigger = (): void => {
    clearTimeout(timer)
    timer = setTimeout(reload, debounceMs)
  }
  const watchers: FSWatcher[] = []
  const file = resolve(snapshot.file)
  for (const target of [dirname(file), policiesDir]) {
    if (target === undefined) continue
    try {
      const w = watch(target, (_event, name) => {
        if (target !== dirname(file) || name === null || resolve(target, name) === file) trigger()
      })
      w.on('error', () => undefined)
      watchers.push(w)
    } catch {
      // Not watchable here; SIGHUP remains.
    }
  }
  return () => {
    clearTimeout(timer)
    for (const w of watchers) w.close()
  }
}

import { realpathSync, statSync, watch, type FSWatcher } from 'node:fs'
import { dirname } from 'node:path'
import type { ConfigSources } from './sources.js'

/**
 * The directories whose changes can alter what a reload reads. Deployments replace files rather
 * than edit them (docs/operations.md), so a file is watched through its directory, and a
 * directory through itself and its parent:
 *  - the directory holding the config entry (and the signing key's, and each x509 anchor's): a temp file renamed over
 *    it, or a ConfigMap's `..data` symlink renamed over, is an event here;
 *  - the directory the entry resolves to, when it is a symlink elsewhere (edits made there);
 *  - the policy directory, for edits inside it (a symlink to it is followed, so this is the
 *    directory it points to now), and its parent, where renaming a new directory over it shows.
 * The list is worked out again after every check, so a replaced directory is watched anew.
 */
export function watchedDirectories(sources: ConfigSources): string[] {
  const dirs = new Set<string>()
  for (const file of [sources.configFile, sources.signingKeyFile, ...sources.x509AnchorFiles]) {
    if (file === undefined) continue
    dirs.add(dirname(file))
    const real = realpathOrUndefined(file)
    if (real !== undefined) dirs.add(dirname(real))
  }
  if (sources.policiesDir !== undefined) {
    dirs.add(sources.policiesDir)
    dirs.add(dirname(sources.policiesDir))
  }
  return [...dirs]
}

/**
 * What the watches on `dirs` are attached to: each path with the directory it resolves to and
 * that directory's device, inode and birth time. A watch follows an inode, not a path, so when
 * this changes (a directory replaced by a rename or a symlink swap), the watches must be made
 * again; while it is unchanged they are still the right ones.
 */
export function directoriesIdentity(dirs: readonly string[]): string {
  return dirs
    .map((dir) => {
      try {
        const st = statSync(dir)
        return `${dir}\0${realpathSync(dir)}\0${st.dev}:${st.ino}:${st.birthtimeMs}`
      } catch {
        return `${dir}\0missing`
      }
    })
    .join('\n')
}

/**
 * Calls `onEvent` on any change in any of `dirs` (names are not filtered: the names that change
 * in a ConfigMap swap are `..data` and timestamped directories, not the config file's). A
 * directory that cannot be watched (missing, say) is skipped; the caller's periodic check
 * notices it later. Returns a function that closes every watch.
 */
export function watchDirectories(dirs: readonly string[], onEvent: () => void): () => void {
  const watchers: FSWatcher[] = []
  for (const dir of dirs) {
    try {
      const w = watch(dir, { persistent: false }, () => onEvent())
      // A watched directory that goes away may end its watch with an error: check again then.
      w.on('error', () => onEvent())
      watchers.push(w)
    } catch {
      // Not watchable now; the periodic check and SIGHUP remain.
    }
  }
  return () => {
    for (const w of watchers) w.close()
  }
}

function realpathOrUndefined(path: string): string | undefined {
  try {
    return realpathSync(path)
  } catch {
    return undefined
  }
}

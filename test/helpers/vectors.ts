import { existsSync, readFileSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'

/**
 * The shared conformance vectors folder (`<clone>/../shared/vectors`), found by walking up from
 * the working directory, so it works from `src` via tsx and from `dist/test` after `tsc` alike.
 * `undefined` when absent: tests then skip, saying so. Vectors are never copied into the repo.
 */
export function vectorsDir(): string | undefined {
  let dir = resolve(process.cwd())
  for (;;) {
    const candidate = join(dir, '..', 'shared', 'vectors')
    if (existsSync(join(candidate, 'README.md'))) return candidate
    const parent = dirname(dir)
    if (parent === dir) return undefined
    dir = parent
  }
}

/** Reads and parses one vector file, or `undefined` when the vectors folder is absent. */
export function readVector<T>(relativePath: string): T | undefined {
  const dir = vectorsDir()
  return dir === undefined ? undefined : (JSON.parse(readFileSync(join(dir, relativePath), 'utf8')) as T)
}

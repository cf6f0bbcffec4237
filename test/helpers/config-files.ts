import { mkdirSync, readlinkSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'

/** Writes `files` (relative path -> text) under `dir`, making directories as needed. */
export function writeTree(dir: string, files: Record<string, string>): void {
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, name)), { recursive: true })
    writeFileSync(join(dir, name), text)
  }
}

/** Replaces `file` the way deployment tools do: write a temp file beside it, rename it over. */
export function replaceFileAtomically(file: string, text: string): void {
  const temp = join(dirname(file), `.${Date.now()}.tmp`)
  writeFileSync(temp, text)
  renameSync(temp, file)
}

/**
 * Replaces directory `dir` by a new one holding `files`: the new directory is written beside it,
 * the old one is moved aside, the new one renamed into its place, and the old one deleted.
 * (rename(2) cannot replace a non-empty directory in one step.)
 */
export function replaceDirectory(dir: string, files: Record<string, string>): void {
  const fresh = `${dir}.new`
  writeTree(fresh, files)
  renameSync(dir, `${dir}.old`)
  renameSync(fresh, dir)
  rmSync(`${dir}.old`, { recursive: true })
}

/**
 * A Kubernetes ConfigMap volume, written as the kubelet's atomic writer does: each version is a
 * new timestamped directory; `..data` is a symlink to the current one, replaced by renaming a
 * fresh `..data_tmp` symlink over it; the visible names are symlinks through `..data`; the old
 * version's directory is deleted afterwards.
 */
export class ConfigMapVolume {
  #version = 0
  constructor(readonly dir: string) {
    mkdirSync(dir, { recursive: true })
  }

  /** Publishes a new version; `files` is path -> text, and each top-level name becomes visible. */
  publish(files: Record<string, string>): void {
    const data = join(this.dir, '..data')
    let previous: string | undefined
    try {
      previous = readlinkSync(data)
    } catch {
      previous = undefined
    }
    const version = `..2026_12_03_10_00_00.${++this.#version}`
    writeTree(join(this.dir, version), files)
    symlinkSync(version, join(this.dir, '..data_tmp'))
    renameSync(join(this.dir, '..data_tmp'), data)
    for (const top of new Set(Object.keys(files).map((name) => name.split('/')[0] as string))) {
      try {
        symlinkSync(join('..data', top), join(this.dir, top))
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err
      }
    }
    if (previous !== undefined) rmSync(join(this.dir, previous), { recursive: true })
  }
}

import { createHash } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { policyFileNames } from '../policy/load.js'
import { loadConfigFile } from './load.js'

/**
 * The files a reload reads, as the config file on disk names them now (not as the snapshot in
 * service does, so a policy directory that a not-yet-valid config names is already followed).
 * Paths are kept as configured: a symlink (a Kubernetes ConfigMap's `gateway.yaml ->
 * ..data/gateway.yaml`) is followed anew on every read (docs/operations.md).
 */
export interface ConfigSources {
  /** Absolute path of the config file. */
  readonly configFile: string
  /** Absolute path of the policy directory, when the config names one. */
  readonly policiesDir: string | undefined
  /** Absolute path of `resource.signing_key`, when the config names one. */
  readonly signingKeyFile: string | undefined
  /** Absolute paths of `trust.x509_anchors`. */
  readonly x509AnchorFiles: readonly string[]
}

/**
 * Reads the config file for the paths it names. When it cannot be read or is invalid, the paths
 * of `fallback` (the last config that could) are kept: the config file itself is always there.
 */
export function configSources(configFile: string, env: NodeJS.ProcessEnv, fallback?: ConfigSources): ConfigSources {
  const file = resolve(configFile)
  try {
    const { config } = loadConfigFile(configFile, env)
    const base = dirname(file)
    return {
      configFile: file,
      policiesDir: config.policies === undefined ? undefined : resolve(base, config.policies),
      signingKeyFile: config.resource.signing_key === undefined ? undefined : resolve(base, config.resource.signing_key),
      x509AnchorFiles: config.trust.x509_anchors.map((f) => resolve(base, f)),
    }
  } catch {
    return { configFile: file, policiesDir: fallback?.policiesDir, signingKeyFile: fallback?.signingKeyFile, x509AnchorFiles: fallback?.x509AnchorFiles ?? [] }
  }
}

/**
 * A SHA-256 over the content of every file a build reads: the config file, the policy files
 * (chosen as the policy loader chooses them), the signing key and the x509 anchors. Equal fingerprints mean a
 * build would read the same bytes, so a file event that changed nothing (a `touch`, a
 * ConfigMap swap to identical content, the deletion of an old ConfigMap directory) does not
 * reload. Content rather than mtime and size: an edit within the clock's resolution that
 * keeps the size is still seen, and the files are small.
 */
export function fingerprint(sources: ConfigSources): string {
  const hash = createHash('sha256')
  const add = (label: string, file: string): void => {
    let content: Buffer | string
    try {
      content = readFileSync(file)
    } catch (err) {
      content = `unreadable: ${(err as NodeJS.ErrnoException).code ?? 'error'}`
    }
    hash.update(`${label}\0${file}\0${content.length}\0`).update(content)
  }
  add('config', sources.configFile)
  if (sources.signingKeyFile !== undefined) add('signing_key', sources.signingKeyFile)
  for (const file of sources.x509AnchorFiles) add('x509_anchor', file)
  if (sources.policiesDir !== undefined) {
    let names: string[]
    try {
      names = policyFileNames(sources.policiesDir)
    } catch {
      names = []
      hash.update('policies unreadable\0')
    }
    for (const name of names) add('policy', join(sources.policiesDir, name))
  }
  return hash.digest('base64url')
}

import { existsSync, readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

/**
 * The repository's root: the nearest folder above this file holding `package.json`, so it is
 * found from `test/helpers` (tsx) and from `dist/test/helpers` (after `tsc`) alike.
 */
function repositoryRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url))
  while (!existsSync(join(dir, 'package.json'))) {
    const parent = dirname(dir)
    if (parent === dir) throw new Error('no package.json above the test helpers')
    dir = parent
  }
  return dir
}

/** The conformance vectors kept in the repository (provenance: `test/fixtures/vectors/NOTICE.md`). */
export const FIXTURE_VECTORS_DIR = join(repositoryRoot(), 'test', 'fixtures', 'vectors')

/** The vector files under `FIXTURE_VECTORS_DIR`, relative paths. */
export const VECTOR_FILES = [
  'rfc9421-b26.json',
  ...['agent-identifier', 'http-signature', 'jwk-thumbprint', 'jwt', 'metadata', 'requirement', 'server-identifier', 'signature-error', 'signature-key']
    .map((name) => `aauth-go/${name}.json`),
] as const

/** Reads and parses one vector file from the repository's fixtures. */
export function readVector<T>(relativePath: string): T {
  return JSON.parse(readFileSync(join(FIXTURE_VECTORS_DIR, relativePath), 'utf8')) as T
}

/**
 * The upstream copies beside the clone (`<clone>/../shared/vectors`), or `undefined` when there
 * are none. Only the cross-check reads them; the conformance tests never do.
 */
export function sharedVectorsDir(): string | undefined {
  const dir = join(repositoryRoot(), '..', 'shared', 'vectors')
  return existsSync(join(dir, 'README.md')) ? dir : undefined
}

import { readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

/**
 * The gateway's version, from its package.json (`aauth_gateway_build_info{version}`). Found by
 * walking up from this module, which sits at `src/` when run with tsx and at `dist/src/` when
 * compiled (and in the Docker image); `unknown` if it cannot be read.
 */
export const VERSION: string = readVersion()

function readVersion(): string {
  let dir = dirname(fileURLToPath(import.meta.url))
  for (let up = 0; up < 4; up++, dir = dirname(dir)) {
    try {
      const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name?: unknown; version?: unknown }
      if (pkg.name === 'aauth-gateway' && typeof pkg.version === 'string') return pkg.version
    } catch {
      // not here: one level up
    }
  }
  return 'unknown'
}

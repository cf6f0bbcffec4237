import assert from 'node:assert/strict'
import { readdirSync, readFileSync } from 'node:fs'
import { join, relative } from 'node:path'
import { test } from 'node:test'

/**
 * The developer kit (src/devkit) stays off the production path (README "The developer kit"):
 * only the kit itself, the demo and the CLI's development commands import it, so the runtime
 * image can leave it out. `serve` loads the echo backend lazily, only for `--echo-backend`.
 */
const ALLOWED = new Set(['src/cli/agent-server.ts', 'src/cli/person-server.ts', 'src/cli/dev-server.ts', 'src/cli/request.ts', 'src/cli/step-up.ts', 'src/cli/keygen.ts', 'src/cli/serve.ts'])

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sources(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : [],
  )
}

test('nothing under src/ but the devkit, the demo and the dev commands imports src/devkit', () => {
  const offenders = sources('src')
    .map((f) => relative('.', f))
    .filter((f) => !f.startsWith('src/devkit/') && !f.startsWith('src/demo/') && !ALLOWED.has(f))
    .filter((f) => /from '[./]*devkit\/|import\('[./]*devkit\//.test(readFileSync(f, 'utf8')))
  assert.deepEqual(offenders, [])
})

test('serve imports the devkit only lazily (inside --echo-backend), never at load', () => {
  const serve = readFileSync('src/cli/serve.ts', 'utf8')
  assert.doesNotMatch(serve, /^import .*devkit/m)
  assert.match(serve, /await import\('\.\.\/devkit\/backend\.js'\)/)
})

test('the runtime image leaves the devkit out but for the key maker keygen needs', () => {
  const dockerfile = readFileSync('Dockerfile', 'utf8')
  assert.match(dockerfile, /find dist\/src\/devkit -type f ! -name keys\.js -delete/)
  const keys = readFileSync('src/devkit/keys.ts', 'utf8')
  assert.deepEqual(keys.match(/^import (?!type ).* from '\.[^']*'/gm) ?? [], [], 'keys.ts loads no other devkit module at run time')
})

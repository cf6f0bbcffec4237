import assert from 'node:assert/strict'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { test } from 'node:test'
import { fileURLToPath } from 'node:url'
import { findCycles, importGraph } from './import-graph.js'

/** The repository's `src/`, found from this file's place in `dist/test/structure/` or `test/structure/`. */
const SRC = resolve(dirname(fileURLToPath(import.meta.url)), dirname(fileURLToPath(import.meta.url)).includes('/dist/') ? '../../../src' : '../../src')

test('src/ has no import cycle (static and dynamic imports; type-only imports are erased and not counted)', () => {
  const cycles = findCycles(importGraph(SRC), SRC)
  assert.deepEqual(cycles, [], `import cycles in src/:\n  ${cycles.join('\n  ')}`)
})

test('the cycle check reports a cycle through a dynamic import, and ignores a type-only one', () => {
  const root = mkdtempSync(join(tmpdir(), 'aauth-cycles-'))
  try {
    mkdirSync(join(root, 'a'))
    writeFileSync(join(root, 'a/one.ts'), "import { two } from '../b/two.js'\nexport const one = () => two\n")
    mkdirSync(join(root, 'b'))
    writeFileSync(join(root, 'b/two.ts'), "export const two = async () => (await import('../c.js')).three\n")
    writeFileSync(join(root, 'c.ts'), "import { one } from './a/one.js'\nexport const three = one\n")
    writeFileSync(join(root, 'types.ts'), "import type { Four } from './four.js'\nexport type Three = Four\n")
    writeFileSync(join(root, 'four.ts'), "import { type Three } from './types.js'\nexport type Four = Three\n")
    assert.deepEqual(findCycles(importGraph(root), root), ['a/one.ts -> b/two.ts -> c.ts -> a/one.ts'])
  } finally {
    rmSync(root, { recursive: true, force: true })
  }
})

import assert from 'node:assert/strict'
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { test } from 'node:test'
import { FIXTURE_VECTORS_DIR, sharedVectorsDir, VECTOR_FILES } from '../helpers/vectors.js'

/**
 * The conformance vectors the tests read live in the repository (test/fixtures/vectors), with
 * their provenance beside them; the upstream copies, when a CI has them next to the clone, only
 * confirm that ours were not edited.
 */

test('every vector fixture is listed, and its NOTICE names each aauth-go file and the licences', () => {
  const onDisk = [
    ...readdirSync(FIXTURE_VECTORS_DIR).filter((f) => f.endsWith('.json')),
    ...readdirSync(join(FIXTURE_VECTORS_DIR, 'aauth-go')).map((f) => `aauth-go/${f}`),
  ].sort()
  assert.deepEqual(onDisk, [...VECTOR_FILES].sort())
  const notice = readFileSync(join(FIXTURE_VECTORS_DIR, 'NOTICE.md'), 'utf8')
  for (const file of VECTOR_FILES.filter((f) => f.startsWith('aauth-go/'))) {
    const name = file.slice('aauth-go/'.length, -'.json'.length)
    assert.match(notice, new RegExp(`\\| [^|]*\\b${name}\\b[^|]*\\| \`[0-9a-f]{40}\` \\|`), `NOTICE gives the source commit of ${name}`)
  }
  assert.match(notice, /MIT/)
  assert.match(notice, /Revised BSD License/)
})

const shared = sharedVectorsDir()

// A cross-check for our own CI only: where ../shared/vectors sits beside the clone, the fixtures
// must equal it byte for byte. Elsewhere the test is not registered at all (rather than skipped),
// so a clone on its own runs every vector test and reports nothing skipped.
if (shared !== undefined) {
  test('the fixtures are byte-for-byte the upstream copies in ../shared/vectors', () => {
    for (const file of VECTOR_FILES) {
      const ours = readFileSync(join(FIXTURE_VECTORS_DIR, file))
      const theirs = readFileSync(join(shared, file))
      assert.ok(ours.equals(theirs), `${file} differs from ../shared/vectors/${file}`)
    }
  })
}

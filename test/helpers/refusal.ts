import assert from 'node:assert/strict'
import type { Backend } from '../../src/devkit/backend.js'
import type { Answer } from './gateway.js'

/**
 * Asserts what a client and the backend see of a refused signature (docs/headers-and-errors.md):
 * `401`, `Signature-Error: error=<code>`, a problem+json body, and nothing forwarded.
 */
export async function assertSignatureRefusal(backend: Backend, answer: Promise<Answer>, code: string): Promise<void> {
  const forwarded = backend.received.length
  const res = await answer
  assert.equal(res.status, 401, res.text)
  assert.equal(res.headers.get('signature-error'), `error=${code}`)
  assert.equal(res.headers.get('content-type'), 'application/problem+json')
  assert.equal(backend.received.length, forwarded, 'nothing reached the backend')
}

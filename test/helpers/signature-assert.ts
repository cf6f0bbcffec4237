import assert from 'node:assert/strict'
import { SignatureError, type SignatureErrorCode } from '../../src/errors.js'

/** Asserts `fn` throws a `SignatureError` with `code` (and, when given, exactly that `requiredInput`). */
export function assertSignatureError(
  fn: () => unknown,
  code: SignatureErrorCode,
  expected: { requiredInput?: readonly string[]; reason?: string } = {},
): SignatureError {
  let caught: unknown
  try {
    fn()
  } catch (e) {
    caught = e
  }
  assert.ok(caught instanceof SignatureError, `expected a SignatureError(${code}), got ${String(caught)}`)
  assert.equal(caught.code, code, caught.message)
  if (expected.requiredInput !== undefined) assert.deepEqual(caught.requiredInput, expected.requiredInput)
  if (expected.reason !== undefined) assert.equal(caught.reason, expected.reason)
  return caught
}

/** `assertSignatureError` for a promise: it must reject with a `SignatureError` with `code`. */
export async function assertRejectsWithSignatureError(
  promise: Promise<unknown>,
  code: SignatureErrorCode,
  expected: { requiredInput?: readonly string[]; reason?: string } = {},
): Promise<SignatureError> {
  const caught: unknown = await promise.then(
    () => undefined,
    (e: unknown) => e,
  )
  return assertSignatureError(() => {
    if (caught !== undefined) throw caught
  }, code, expected)
}

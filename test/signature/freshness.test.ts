import { test } from 'node:test'
import { checkFreshness } from '../../src/signature/freshness.js'
import { assertSignatureError } from '../helpers/signature-assert.js'

const NOW = 1_800_000_000

test('accepts created anywhere within the window, bounds included', () => {
  for (const offset of [0, -60, 60, -1, 59]) checkFreshness({ created: NOW + offset, expires: undefined }, NOW, 60)
})

test('refuses created older than the window with invalid_signature', () => {
  assertSignatureError(() => checkFreshness({ created: NOW - 61, expires: undefined }, NOW, 60), 'invalid_signature')
})

test('refuses created ahead of the clock by more than the window with clock_skew', () => {
  assertSignatureError(() => checkFreshness({ created: NOW + 61, expires: undefined }, NOW, 60), 'clock_skew')
})

test('uses the configured window', () => {
  checkFreshness({ created: NOW - 200, expires: undefined }, NOW, 300)
  assertSignatureError(() => checkFreshness({ created: NOW - 11, expires: undefined }, NOW, 10), 'invalid_signature')
})

test('refuses an expires in the past with invalid_signature and accepts one now or later', () => {
  assertSignatureError(() => checkFreshness({ created: NOW - 5, expires: NOW - 1 }, NOW, 60), 'invalid_signature')
  checkFreshness({ created: NOW - 5, expires: NOW }, NOW, 60)
  checkFreshness({ created: NOW - 5, expires: NOW + 30 }, NOW, 60)
})

import assert from 'node:assert/strict'
import { test } from 'node:test'
import {
  ALWAYS_REQUIRED_COMPONENTS,
  checkCoveredComponents,
  isComputableComponent,
} from '../../src/signature/components.js'
import { assertSignatureError } from '../helpers/signature-assert.js'

const FOUR = ['@method', '@authority', '@path', 'signature-key']

function check(components: string[], required: readonly string[] = []) {
  checkCoveredComponents({ components }, required)
}

test('accepts the four always-required components, in any order', () => {
  check(['signature-key', '@path', '@authority', '@method'])
  assert.deepEqual(ALWAYS_REQUIRED_COMPONENTS, FOUR)
})

for (const missing of FOUR) {
  test(`refuses a signature that does not cover ${missing} with invalid_input listing every required component`, () => {
    assertSignatureError(() => check(FOUR.filter((c) => c !== missing)), 'invalid_input', { requiredInput: FOUR })
  })
}

test('requires the route extras and lists them after the four in required_input', () => {
  check([...FOUR, 'content-type', 'content-digest'], ['content-digest', 'content-type'])
  assertSignatureError(() => check([...FOUR, 'content-type'], ['content-digest', 'content-type']), 'invalid_input', {
    requiredInput: [...FOUR, 'content-digest', 'content-type'],
  })
})

test('accepts a required list that already includes the four, without listing them twice', () => {
  assertSignatureError(() => check(FOUR, [...FOUR, 'content-type']), 'invalid_input', {
    requiredInput: [...FOUR, 'content-type'],
  })
})

test('accepts @query and lower-case field names beyond the required ones', () => {
  check([...FOUR, '@query', 'date', 'content-type', 'x-custom_header.1'])
})

test('refuses derived components the gateway cannot compute with invalid_input', () => {
  for (const c of ['@target-uri', '@scheme', '@request-target', '@query-param', '@status', '@signature-params', '@x']) {
    const error = assertSignatureError(() => check([...FOUR, c]), 'invalid_input')
    assert.equal(error.requiredInput, undefined)
  }
})

test('refuses covered components with parameters with invalid_input', () => {
  assertSignatureError(() => check([...FOUR, 'content-digest;sf']), 'invalid_input')
  assertSignatureError(() => check([...FOUR, '@query-param;name']), 'invalid_input')
})

test('refuses a field component that is not a lower-case field name with invalid_input', () => {
  for (const c of ['Content-Type', 'content type', '', 'a"b', 'é']) {
    assertSignatureError(() => check([...FOUR, c]), 'invalid_input')
  }
})

test('refuses a component covered twice with invalid_input', () => {
  assertSignatureError(() => check([...FOUR, '@method']), 'invalid_input')
})

test('tells the config loader which components can be computed', () => {
  assert.equal(isComputableComponent('content-digest'), true)
  assert.equal(isComputableComponent('@query'), true)
  assert.equal(isComputableComponent('@target-uri'), false)
  assert.equal(isComputableComponent('toString'), false)
  assert.equal(isComputableComponent('@constructor'), false)
})

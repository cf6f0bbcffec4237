import assert from 'node:assert/strict'
import { test } from 'node:test'
import { buildSignatureBase } from '../../src/signature/base.js'
import type { SignedRequest } from '../../src/signature/types.js'
import { assertSignatureError } from '../helpers/signature-assert.js'

function request(overrides: Partial<SignedRequest> = {}): SignedRequest {
  return { method: 'POST', authority: 'api.example.com', path: '/data', query: '?a=1', headers: {}, ...overrides }
}

function base(components: string[], req: SignedRequest, signatureParams = '();created=1') {
  return buildSignatureBase({ components, signatureParams }, req)
}

test('writes one line per covered component in covered order and ends with @signature-params, no trailing LF', () => {
  const params = '("@path" "@method" "@authority" "@query");created=1;keyid="k"'
  assert.equal(
    base(['@path', '@method', '@authority', '@query'], request(), params),
    `"@path": /data\n"@method": POST\n"@authority": api.example.com\n"@query": ?a=1\n"@signature-params": ${params}`,
  )
})

test('lower-cases @authority and leaves the method case untouched', () => {
  assert.equal(
    base(['@method', '@authority'], request({ method: 'patch', authority: 'API.Example.COM:8443' })),
    '"@method": patch\n"@authority": api.example.com:8443\n"@signature-params": ();created=1',
  )
})

test('uses "/" for an empty path and "?" for an absent query', () => {
  assert.equal(base(['@path', '@query'], request({ path: '', query: '' })), '"@path": /\n"@query": ?\n"@signature-params": ();created=1')
  assert.equal(base(['@query'], request({ query: '?' })), '"@query": ?\n"@signature-params": ();created=1')
})

test('trims each field line of SP and HTAB only and joins lines with ", "', () => {
  const req = request({ headers: { 'x-list': ['  a ', '\tb\t', 'c'], 'x-nbsp': '\u00a0v\u00a0 ' } })
  assert.equal(base(['x-list', 'x-nbsp'], req), '"x-list": a, b, c\n"x-nbsp": \u00a0v\u00a0\n"@signature-params": ();created=1')
})

test('covers signature-key as its raw field value, spacing kept', () => {
  const raw = 'sig=jwt; jwt="eyJhbGciOiJFZDI1NTE5In0.e30.c2ln"'
  assert.equal(base(['signature-key'], request({ headers: { 'signature-key': raw } })), `"signature-key": ${raw}\n"@signature-params": ();created=1`)
})

test('writes an empty field value as an empty component value', () => {
  assert.equal(base(['x-empty'], request({ headers: { 'x-empty': '' } })), '"x-empty": \n"@signature-params": ();created=1')
})

test('refuses a covered header that is absent with invalid_input', () => {
  assertSignatureError(() => base(['content-digest'], request()), 'invalid_input')
  assertSignatureError(() => base(['x-lines'], request({ headers: { 'x-lines': [] } })), 'invalid_input')
})

test('refuses a derived component it cannot compute with invalid_input', () => {
  assertSignatureError(() => base(['@target-uri'], request()), 'invalid_input')
})

import assert from 'node:assert/strict'
import { test } from 'node:test'
import { SignatureError } from '../../src/errors.js'
import { buildSignatureBase } from '../../src/signature/base.js'
import { checkCoveredComponents } from '../../src/signature/components.js'
import { checkContentDigest } from '../../src/signature/digest.js'
import { parseLegacySignatureKey } from '../../src/signature/legacy.js'
import { parseSignatureHeaders } from '../../src/signature/parse.js'
import type { SignedRequest } from '../../src/signature/types.js'
import { prng } from '../helpers/prng.js'

/** Every malformed input must end as a SignatureError (a 401), never a crash (a 500). */

const VALID: Record<string, string>[] = [
  {
    'signature-input': 'sig=("@method" "@authority" "@path" "signature-key");created=1791275958;keyid="k"',
    signature: 'sig=:CM3sVqR9XUQWmhOyG14A3/mhmxb3Dc3MmemFxSqDhP29hcT+Him1BYsyVQzd+di7mvQckrJpOVw8XTQsGIbOBg==:',
    'signature-key': 'sig=hwk;alg="Ed25519";kty="OKP";crv="Ed25519";x="11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"',
  },
  {
    'signature-input': 'sig1=("@method" "@authority" "@path" "@query" "signature-key");created=1767225600',
    signature: 'sig1=:J7lsKp-ZDA_J7lsKp-ZDA_J7lsKp-ZDA_J7lsKp-ZDA_J7lsKp-ZDA_J7lsKp-ZDA_J7lsKp-ZDA_J7lsKp-ZDA_J7lsKp-ZDA:',
    'signature-key': 'sig1=(scheme=jwks id="https://agent.example" kid="key-1" well-known="aauth-agent")',
  },
]
const NAMES = ['signature-input', 'signature', 'signature-key'] as const
const STRUCTURAL = '()";:=,; \t*abcsigjwt0189@-_/+?%.\\'


function randomString(rand: () => number, length: number, alphabet?: string): string {
  let out = ''
  for (let i = 0; i < length; i++) {
    out += alphabet === undefined ? String.fromCharCode(Math.floor(rand() * 256)) : alphabet[Math.floor(rand() * alphabet.length)]
  }
  return out
}

function mutate(rand: () => number, value: string): string {
  let out = value
  const edits = 1 + Math.floor(rand() * 4)
  for (let e = 0; e < edits; e++) {
    const at = Math.floor(rand() * (out.length + 1))
    const ch = randomString(rand, 1, rand() < 0.7 ? STRUCTURAL : undefined)
    const op = Math.floor(rand() * 3)
    out = op === 0 ? out.slice(0, at) + ch + out.slice(at) : op === 1 ? out.slice(0, at) + out.slice(at + 1) : out.slice(0, at) + ch + out.slice(at + 1)
  }
  return out
}

/** Parses and, when that succeeds, runs the rest of the chain; only SignatureError may escape. */
function mustOnlyThrowSignatureError(headers: Record<string, string>, legacy: boolean): void {
  try {
    const parsed = parseSignatureHeaders(headers, { legacy })
    if (parsed === null) return
    const req: SignedRequest = { method: 'GET', authority: 'resource.example', path: '/', query: '?', headers }
    try {
      checkCoveredComponents(parsed, ['content-type'])
    } catch (e) {
      if (!(e instanceof SignatureError)) throw e
    }
    // Verification itself never rejects (test/signature/crypto.test.ts); the base is what parses input.
    buildSignatureBase(parsed, req)
  } catch (e) {
    assert.ok(e instanceof SignatureError, `${String(e)} for ${JSON.stringify(headers).slice(0, 300)}`)
  }
}

test('random bytes in any signature header only ever raise a SignatureError', () => {
  const rand = prng(1)
  for (let i = 0; i < 3000; i++) {
    const base = VALID[i % VALID.length] as Record<string, string>
    const name = NAMES[i % 3] as string
    const alphabet = i % 2 === 0 ? STRUCTURAL : undefined
    mustOnlyThrowSignatureError({ ...base, [name]: randomString(rand, Math.floor(rand() * 120), alphabet) }, i % 4 < 2)
  }
})

test('random edits of valid headers only ever raise a SignatureError', () => {
  const rand = prng(2)
  for (let i = 0; i < 6000; i++) {
    const base = VALID[i % VALID.length] as Record<string, string>
    const headers = { ...base }
    for (const name of NAMES) if (rand() < 0.5) headers[name] = mutate(rand, base[name] as string)
    mustOnlyThrowSignatureError(headers, rand() < 0.5)
  }
})

test('every truncation of valid headers only ever raises a SignatureError', () => {
  for (const base of VALID) {
    for (const name of NAMES) {
      const value = base[name] as string
      for (let cut = 0; cut <= value.length; cut++) {
        mustOnlyThrowSignatureError({ ...base, [name]: value.slice(0, cut) }, true)
        mustOnlyThrowSignatureError({ ...base, [name]: value.slice(0, cut) }, false)
      }
    }
  }
})

test('huge headers are refused quickly with a SignatureError', () => {
  const huge = [
    '('.repeat(1_000_000),
    ')'.repeat(1_000_000),
    '"'.repeat(1_000_001),
    `sig=${'a'.repeat(1_000_000)}`,
    `sig=:${'A'.repeat(1_000_000)}`,
    `sig=("${'x'.repeat(1_000_000)}");created=1`,
    Array.from({ length: 100_000 }, (_, i) => `k${i}=1`).join(', '),
    Array.from({ length: 100_000 }, () => 'sig=1').join(', '),
    `sig=(scheme=jwt ${'a="b" '.repeat(100_000)})`,
  ]
  for (const value of huge) {
    for (const name of NAMES) {
      const started = Date.now()
      mustOnlyThrowSignatureError({ ...(VALID[1] as Record<string, string>), [name]: value }, true)
      assert.ok(Date.now() - started < 3000, `took ${Date.now() - started} ms`)
    }
  }
})

test('random Content-Digest values and legacy Signature-Key values only ever raise a SignatureError', () => {
  const rand = prng(3)
  for (let i = 0; i < 3000; i++) {
    const value = i % 2 === 0 ? mutate(rand, 'sha-256=:ybC6GsvdO/cjY2Rd5x9Ud8/pb3tqRjxfwwUqf9W21uA=:, sha-512=:AAAA:') : randomString(rand, 40)
    const legacy = mutate(rand, '(scheme=jwks id="https://agent.example" kid="key-1" well-known="aauth-agent")')
    for (const fn of [() => checkContentDigest(value, Buffer.from('x')), () => parseLegacySignatureKey(legacy)]) {
      try {
        fn()
      } catch (e) {
        assert.ok(e instanceof SignatureError, String(e))
      }
    }
  }
})

import assert from 'node:assert/strict'
import { test } from 'node:test'
import { Token, isInnerList, parseDictionary } from 'structured-headers'
import { SignatureError } from '../../src/errors.js'
import { scanDictionary } from '../../src/signature/scan.js'
import { plainValue } from '../../src/signature/sf.js'
import { readSignatureKey } from '../../src/signature/signature-key.js'
import { prng } from '../helpers/prng.js'

/**
 * `readSignatureKey` reads the common `<token>;<key>="<text>"` shape without the library, for
 * speed. This holds it to what `structured-headers` alone would answer, over many near-miss inputs.
 */
type Outcome = { code: string } | { scheme: string; params: Record<string, unknown> }

function viaLibrary(value: string): Outcome {
  let dictionary
  try {
    dictionary = parseDictionary(value)
  } catch {
    return { code: 'invalid_input' }
  }
  const member = dictionary.get('sig')
  if (member === undefined || isInnerList(member) || !(member[0] instanceof Token)) return { code: 'invalid_signature' }
  const params: Record<string, unknown> = {}
  for (const [k, v] of member[1]) params[k] = plainValue(v)
  return { scheme: member[0].toString(), params }
}

function viaModule(value: string): Outcome | undefined {
  let members
  try {
    members = scanDictionary(value, 'Signature-Key')
  } catch {
    return undefined
  }
  const raw = members.get('sig')
  if (raw === undefined) return undefined
  try {
    const key = readSignatureKey(value, 'sig', members.size, raw, false)
    return { scheme: key.scheme, params: Object.fromEntries(key.params) }
  } catch (e) {
    assert.ok(e instanceof SignatureError)
    return { code: e.code }
  }
}

const PIECES = ['sig', '=', 'jwt', 'hwk', ';', ' ', '\t', 'jwt', 'x', '"', 'eyJ.e30.c2ln', '\\"', '\\\\', ',', 'a=1', '?1', ':AQID:', '*', 'K', '-', '\u007f', '\u00e9', '1.5', '(', ')', 'kid', '=']
const SEEDS = [
  'sig=jwt;jwt="eyJhbGciOiJFZDI1NTE5In0.e30.c2ln"',
  'sig=jwt; jwt="eyJ.e30.c2ln"',
  'sig=hwk;alg="Ed25519";kty="OKP";crv="Ed25519";x="11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"',
  'sig=jwks_uri;id="https://ps.example";dwk="aauth-person.json";kid="key-1"',
  ' sig=jwt;jwt="a" \t',
]


test('reads simple Signature-Key members exactly as structured-headers does', () => {
  for (const seed of SEEDS) assert.deepEqual(viaModule(seed), viaLibrary(seed), seed)
})

test('agrees with structured-headers on thousands of near-miss Signature-Key fields', () => {
  const rand = prng(7)
  let compared = 0
  for (let i = 0; i < 20000; i++) {
    let value = SEEDS[i % SEEDS.length] as string
    const edits = 1 + Math.floor(rand() * 3)
    for (let e = 0; e < edits; e++) {
      const at = Math.floor(rand() * (value.length + 1))
      const piece = PIECES[Math.floor(rand() * PIECES.length)] as string
      value = rand() < 0.6 ? value.slice(0, at) + piece + value.slice(at) : value.slice(0, at) + value.slice(at + 1 + Math.floor(rand() * 3))
    }
    const ours = viaModule(value)
    if (ours === undefined) continue
    assert.deepEqual(ours, viaLibrary(value), JSON.stringify(value))
    compared++
  }
  assert.ok(compared > 5000, `only ${compared} inputs compared`)
})

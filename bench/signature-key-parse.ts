import { parseDictionary } from 'structured-headers'
import { readSignatureKey } from '../src/signature/signature-key.js'

/**
 * The measurement behind the hand-written `Signature-Key` fast path (src/signature/signature-key.ts):
 * a typical `jwt` member (an agent token of about 700 characters) read by the fast path and by
 * `structured-headers` alone. Run: `npm run build && node dist/bench/signature-key-parse.js`.
 */
const token = `eyJhbGciOiJFZDI1NTE5IiwidHlwIjoiYWEtYWdlbnQrand0In0.${'eyJpc3MiOiJodHRwczovL2FnZW50LmV4YW1wbGUifQ'.repeat(12)}.${'c2ln'.repeat(22)}`
const field = `sig=jwt;jwt="${token}"`
const raw = field.slice('sig='.length)
const ROUNDS = 50_000

function time(what: string, fn: () => unknown): number {
  for (let i = 0; i < 2_000; i++) fn()
  const start = process.hrtime.bigint()
  for (let i = 0; i < ROUNDS; i++) fn()
  const us = Number(process.hrtime.bigint() - start) / 1000 / ROUNDS
  console.log(`${what}: ${us.toFixed(2)} µs per field`)
  return us
}

console.log(`node ${process.version}, field of ${field.length} characters`)
const fast = time('fast path (readSignatureKey)', () => readSignatureKey(field, 'sig', 1, raw, false))
const library = time('structured-headers parseDictionary', () => parseDictionary(field))
console.log(`fast path is ${(library / fast).toFixed(0)}x faster`)

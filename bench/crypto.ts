import { sign, verify } from 'node:crypto'
import { newKey } from '../src/devkit/keys.js'

/**
 * Microseconds one `node:crypto` Ed25519 verification takes here: the floor under every signed
 * row's cost per request, printed so the ratios can be read against this machine's crypto speed.
 */
export function ed25519VerifyMicros(iterations = 2000): number {
  const { privateKey, publicKey } = newKey('Ed25519')
  const data = Buffer.alloc(300, 0x61)
  const signature = sign(null, data, privateKey)
  for (let i = 0; i < 200; i++) verify(null, data, publicKey, signature)
  const start = process.hrtime.bigint()
  for (let i = 0; i < iterations; i++) verify(null, data, publicKey, signature)
  return Number(process.hrtime.bigint() - start) / iterations / 1000
}

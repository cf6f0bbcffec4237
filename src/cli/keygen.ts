import { writeFileSync } from 'node:fs'
import { calculateJwkThumbprint } from 'jose'
import { generatePrivateJwk } from '../config/resource-key.js'
import { option } from './option.js'

/**
 * `aauth-gateway keygen [--alg Ed25519|ES256] [--kid ID] [--out FILE]`: writes a private JWK
 * for `resource.signing_key`, with `kid` (default: its RFC 7638 thumbprint) and `alg`.
 * Without `--out` it prints to stdout. The file is written with mode 0600.
 */
export async function keygenCommand(args: string[]): Promise<number> {
  const alg = option(args, 'alg') ?? 'Ed25519'
  if (alg !== 'Ed25519' && alg !== 'ES256') {
    process.stderr.write('keygen: --alg must be Ed25519 or ES256\n')
    return 2
  }
  const jwk = generatePrivateJwk(alg)
  const kid = option(args, 'kid') ?? (await calculateJwkThumbprint(jwk as Parameters<typeof calculateJwkThumbprint>[0]))
  const text = JSON.stringify({ ...jwk, kid, alg }, null, 2) + '\n'
  const out = option(args, 'out')
  if (out) {
    writeFileSync(out, text, { mode: 0o600 })
    process.stderr.write(`keygen: wrote ${alg} key ${kid} to ${out}\n`)
  } else {
    process.stdout.write(text)
  }
  return 0
}

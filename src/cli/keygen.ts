import type { JsonWebKey as NodeJwk } from 'node:crypto'
import { existsSync, mkdirSync, writeFileSync } from 'node:fs'
import { dirname } from 'node:path'
import { calculateJwkThumbprint } from 'jose'
import { generatePrivateJwk } from '../devkit/keys.js'
import { UsageError } from './command.js'

export interface KeygenOptions {
  alg: string
  kid?: string
  out?: string
  force: boolean
  'if-missing': boolean
  public: boolean
}

/**
 * `aauth-gateway keygen` (src/cli/commands.ts): writes a private JWK for `resource.signing_key`
 * (or an agent's key), with `kid` (default: its RFC 7638 thumbprint) and `alg`. Without `--out`
 * it prints to stdout. The file is written with mode 0600 and never over an existing file unless
 * `--force`; with `--if-missing` an existing file is kept and the exit is 0 (what `npm start`
 * runs, so a fresh clone has the resource key config/gateway.yaml names). The file's directory
 * is created (mode 0700) when missing. `--public` prints the public JWK of what was generated.
 */
export async function keygen(values: KeygenOptions): Promise<number> {
  const alg = values.alg
  if (alg !== 'Ed25519' && alg !== 'ES256') throw new UsageError(`--alg must be Ed25519 or ES256, not '${alg}'`)
  if (values['if-missing'] && (values.out === undefined || values.force)) throw new UsageError('--if-missing needs --out FILE and no --force')
  if (values.out !== undefined && existsSync(values.out) && values['if-missing']) {
    process.stderr.write(`keygen: ${values.out} exists; kept\n`)
    return 0
  }
  if (values.out !== undefined && existsSync(values.out) && !values.force) {
    process.stderr.write(`keygen: ${values.out} exists; not overwritten (use --force to replace it)\n`)
    return 1
  }
  const jwk = generatePrivateJwk(alg)
  const kid = values.kid ?? (await calculateJwkThumbprint(jwk as Parameters<typeof calculateJwkThumbprint>[0]))
  const privateJwk = { ...jwk, kid, alg }
  if (values.out !== undefined) {
    mkdirSync(dirname(values.out), { recursive: true, mode: 0o700 })
    writeFileSync(values.out, JSON.stringify(privateJwk, null, 2) + '\n', { mode: 0o600 })
    process.stderr.write(`keygen: wrote ${alg} key ${kid} to ${values.out}\n`)
  }
  if (values.public) process.stdout.write(JSON.stringify(publicJwk(privateJwk), null, 2) + '\n')
  else if (values.out === undefined) process.stdout.write(JSON.stringify(privateJwk, null, 2) + '\n')
  return 0
}

/** The public members of a private JWK (RFC 7517 §4, RFC 8037 §2, RFC 7518 §6.2.1). */
function publicJwk(jwk: NodeJwk & { kid: string; alg: string }): Record<string, string | undefined> {
  const { kty, crv, x, y, kid, alg } = jwk
  return y === undefined ? { kty, crv, x, kid, alg } : { kty, crv, x, y, kid, alg }
}

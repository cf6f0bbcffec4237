import { SignJWT, calculateJwkThumbprint, type JWTPayload } from 'jose'
import type { DevKey, PublicJwk } from '../../src/devkit/keys.js'

/** Options for `jktJwt`: what a test flips to make a bad one. */
export interface JktJwtOptions {
  /** Header `typ` (default `jkt-s256+jwt`). */
  typ?: string
  /** Claims merged over the good ones (`undefined` deletes one). */
  claims?: JWTPayload
  /** Header members merged over the good ones (`undefined` deletes one). */
  header?: Record<string, unknown>
  /** Seconds since the epoch for `iat` (default now); `exp` is an hour later. */
  now?: number
}

/**
 * A `jkt-jwt` assertion (Signature-Key -09 §3.5): `enclave` signs it and rides in the header as
 * `jwk`, `iss` is its JWK Thumbprint URI, `cnf.jwk` delegates to `delegate`.
 */
export async function jktJwt(enclave: DevKey, delegate: PublicJwk, options: JktJwtOptions = {}): Promise<string> {
  const typ = options.typ ?? 'jkt-s256+jwt'
  const hash = typ === 'jkt-s512+jwt' ? 'sha512' : 'sha256'
  const iss = `urn:jkt:${hash === 'sha512' ? 'sha-512' : 'sha-256'}:${await calculateJwkThumbprint(enclave.publicJwk, hash)}`
  const iat = options.now ?? Math.floor(Date.now() / 1000)
  const claims = withoutUndefined({ iss, iat, exp: iat + 3600, cnf: { jwk: delegate }, ...options.claims })
  const header = withoutUndefined({ typ, alg: enclave.alg, jwk: enclave.publicJwk, ...options.header })
  return new SignJWT(claims).setProtectedHeader(header as { alg: string }).sign(enclave.privateKey)
}

function withoutUndefined<T extends Record<string, unknown>>(record: T): T {
  return Object.fromEntries(Object.entries(record).filter(([, v]) => v !== undefined)) as T
}

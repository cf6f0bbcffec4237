import { X509Certificate, createHash, createPrivateKey } from 'node:crypto'
import { existsSync, readFileSync } from 'node:fs'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { SignJWT, calculateJwkThumbprint, type JWTPayload } from 'jose'
import type { DevKey, PublicJwk } from '../../src/devkit/keys.js'
import type { SigningKey } from '../../src/devkit/sign.js'

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

/** The x509 fixtures (test/fixtures/x509/make.sh), read from the source tree. */
export const X509_FIXTURES = fileURLToPath(new URL('../../../test/fixtures/x509/', import.meta.url))

/** A fixture file's text. */
export function x509Fixture(name: string): string {
  return readFileSync(join(X509_FIXTURES, name), 'utf8')
}

/** The `x509` member for a chain served at `url`: `x5t` is the SHA-256 of its first certificate, as a Byte Sequence. */
export function x509Member(url: string, chainPem: string): string {
  const leaf = new X509Certificate(chainPem)
  return `x509;x5u="${url}";x5t=:${createHash('sha256').update(leaf.raw).digest('base64')}:`
}

/** A fixture leaf's private key, to sign requests with. */
export function x509SigningKey(name: string): SigningKey {
  const privateKey = createPrivateKey(x509Fixture(`${name}.key`))
  return { alg: privateKey.asymmetricKeyType === 'ed25519' ? 'Ed25519' : 'ES256', privateKey }
}

export interface PemServer {
  /** `http://127.0.0.1:port`, to list in `trust.insecure_issuers`. */
  origin: string
  /** The file names asked for, in order: one per fetch of a chain. */
  readonly served: string[]
  close(): Promise<void>
}

/** Serves the fixture files on loopback at `/<name>`, as `x5u` points at them. */
export async function startPemServer(): Promise<PemServer> {
  const served: string[] = []
  const server = createServer((req, res) => {
    const name = (req.url ?? '/').slice(1)
    served.push(name)
    if (!/^[a-z0-9-]+\.pem$/.test(name) || !existsSync(join(X509_FIXTURES, name))) return void res.writeHead(404).end()
    res.writeHead(200, { 'content-type': 'application/pem-certificate-chain' }).end(x509Fixture(name))
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  const { port } = server.address() as AddressInfo
  return {
    origin: `http://127.0.0.1:${port}`,
    served,
    close: () => new Promise<void>((r) => {
      server.close(() => r())
      server.closeAllConnections()
    }),
  }
}

import { createHash, timingSafeEqual, type X509Certificate } from 'node:crypto'
import { SignatureError } from '../../errors.js'
import { FetchError, fetchPolicyFor, guardedFetch } from '../fetch.js'
import type { KeyResolver, ResolveContext } from '../types.js'
import { pemCertificates } from '../x509-anchors.js'
import { schemeIdentity } from './identity.js'
import { requiredParam } from './params.js'

/** Extended key usages that allow a leaf to authenticate a client (RFC 5280 §4.2.1.12). */
const CLIENT_AUTH = '1.3.6.1.5.5.7.3.2'
const ANY_USAGE = '2.5.29.37.0'

/**
 * `x509` (Signature-Key -09 §3.10): `x5u` is an https URL of a PEM chain, end-entity first;
 * `x5t` is the SHA-256 of the end-entity's DER. The chain must reach a certificate of
 * `trust.x509_anchors`; node:crypto's `X509Certificate` does the parsing and the signature
 * checks (`checkIssued`, `verify`), nothing here reads ASN.1.
 *
 * Checks, in the draft's order: fetch `x5u` under the egress guard (as discovery fetches: https,
 * or an `insecure_issuers` origin; no private addresses); validate the chain to an anchor, each
 * link issued and signed by the next, every issuer a CA; every certificate valid at
 * `ctx.now()`; `x5t` equals the end-entity's SHA-256; the end-entity is not a CA and, if it
 * names extended key usages, allows `clientAuth`; its SubjectPublicKeyInfo decides the
 * algorithm (Ed25519 or P-256 -> ES256), which `signatures.algorithms` must accept.
 *
 * Codes (§5.4.7: "could not be parsed, is expired, or does not meet the server's trust
 * requirements"): all of that is `invalid_key`, but an algorithm outside
 * `signatures.algorithms` is `unsupported_algorithm`. The chain's bytes are cached by `x5t` and
 * `x5u` for five minutes (src/keys/x509-chains.ts); it is validated on every request. Not done:
 * revocation (no CRL or OCSP is fetched); docs/protocol.md says so.
 * The identity is the end-entity's subject: level `identified`, `aauth.agent` = the subject DN.
 */
export const resolveX509: KeyResolver = async (member, ctx) => {
  const x5u = requiredParam(member, 'x5u')
  const x5t = thumbprintParam(requiredParam(member, 'x5t'))
  const anchors = ctx.config.x509Anchors
  if (anchors.length === 0) throw invalidKey('x509 is not usable: no trust.x509_anchors are configured')
  const chain = await fetchChain(x5u, x5t.toString('base64url'), ctx)
  const leaf = chain[0]!
  const digest = createHash('sha256').update(leaf.raw).digest()
  if (!timingSafeEqual(digest, x5t)) throw invalidKey('x5t is not the SHA-256 of the end-entity certificate')
  checkValidity(chain, ctx.now())
  checkChain(chain, anchors)
  if (leaf.ca) throw invalidKey('the end-entity certificate is a CA certificate')
  const usages = leaf.keyUsage
  if (usages !== undefined && usages.length > 0 && !usages.includes(CLIENT_AUTH) && !usages.includes(ANY_USAGE)) {
    throw invalidKey('the end-entity certificate does not allow clientAuth')
  }
  const key = await ctx.services.importer.verifyKey(leafJwk(leaf), { algorithms: ctx.config.signatures.algorithms, legacy: false })
  return { key, identity: schemeIdentity('x509', 'identified', leaf.subject.split('\n').join(', ')) }
}

/** `x5t` is a Byte Sequence (-09); the parser hands it over base64, as it does a base64url string. */
function thumbprintParam(value: string): Buffer {
  const bytes = Buffer.from(value, 'base64')
  if (bytes.length !== 32) throw invalidKey('x5t is not a SHA-256 thumbprint')
  return bytes
}

/** The chain at `x5u`, from the key services' chain cache (keyed with `x5t`) when there is one. */
async function fetchChain(x5u: string, x5tKey: string, ctx: ResolveContext): Promise<X509Certificate[]> {
  let bytes: Buffer | undefined
  try {
    const policy = fetchPolicyFor(ctx.config)
    const cache = ctx.services.x509Chains
    bytes = cache ? await cache.get(x5u, x5tKey, policy) : (await guardedFetch(x5u, { trusted: true, policy, raw: true })).bytes
  } catch (err) {
    if (err instanceof FetchError) throw invalidKey(`the x5u chain could not be fetched (${err.failure})`).withInternal(err.message)
    throw err
  }
  try {
    return pemCertificates((bytes ?? Buffer.alloc(0)).toString('utf8'))
  } catch (err) {
    throw invalidKey(`the x5u chain is not a PEM certificate chain: ${(err as Error).message}`)
  }
}

/** Every certificate of the chain valid at `now` (seconds): the injectable clock, not the host's. */
function checkValidity(chain: readonly X509Certificate[], now: number): void {
  for (const cert of chain) {
    if (now * 1000 < Date.parse(cert.validFrom)) throw invalidKey('a certificate of the chain is not yet valid')
    if (now * 1000 > Date.parse(cert.validTo)) throw invalidKey('a certificate of the chain has expired')
  }
}

/**
 * Each certificate issued and signed by the next, which must be a CA; the last one either is an
 * anchor or is issued and signed by one. Extra certificates after an anchor are not looked at.
 */
function checkChain(chain: readonly X509Certificate[], anchors: readonly X509Certificate[]): void {
  const isAnchor = (cert: X509Certificate): boolean => anchors.some((a) => a.fingerprint256 === cert.fingerprint256)
  for (let i = 0; i < chain.length; i++) {
    const cert = chain[i]!
    if (i > 0 && isAnchor(cert)) return
    const anchor = anchors.find((a) => cert.checkIssued(a) && cert.verify(a.publicKey))
    if (anchor !== undefined) return
    const issuer = chain[i + 1]
    if (issuer === undefined) break
    if (!issuer.ca || !cert.checkIssued(issuer) || !cert.verify(issuer.publicKey)) {
      throw invalidKey('the x5u chain is broken: a certificate is not issued by the next one')
    }
  }
  throw invalidKey('the x5u chain does not reach a trusted anchor (trust.x509_anchors)')
}

/** The end-entity's public key as a JWK with the one algorithm its SubjectPublicKeyInfo allows. */
function leafJwk(leaf: X509Certificate): Record<string, unknown> {
  const key = leaf.publicKey
  const jwk = key.export({ format: 'jwk' }) as Record<string, unknown>
  if (key.asymmetricKeyType === 'ed25519') return { ...jwk, alg: 'Ed25519' }
  if (key.asymmetricKeyType === 'ec' && jwk.crv === 'P-256') return { ...jwk, alg: 'ES256' }
  throw new SignatureError('unsupported_algorithm', `the certificate key (${key.asymmetricKeyType ?? 'unknown'}) has no algorithm accepted here`)
}

function invalidKey(detail: string): SignatureError {
  return new SignatureError('invalid_key', detail)
}

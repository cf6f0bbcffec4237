import type { KeyObject } from 'node:crypto'

/** JOSE algorithm identifiers the gateway can verify (fully specified, RFC 9864). */
export type SignatureAlgorithm = 'Ed25519' | 'ES256'

/** One member of the `Signature-Key` dictionary, already reduced to a scheme and parameters. */
export interface SignatureKeyMember {
  /** The scheme token as received, e.g. `jwt`, `hwk`, `jwks_uri`, `jwks`, `x509`. */
  scheme: string
  /** Parameters with string/boolean/number values; byte sequences as base64 strings. */
  params: ReadonlyMap<string, string | number | boolean>
  /** True when it came from the January-2026 parenthesised form (docs/protocol.md "Wire vintages"). */
  legacy: boolean
}

/** The three signature headers bound together under one label (RFC 9421 §4, Signature-Key §3). */
export interface ParsedSignature {
  label: string
  /** Covered component identifiers as they appear, e.g. `@method`, `content-digest`. */
  components: readonly string[]
  /** The raw `Signature-Input` member value (inner list + params) used verbatim for `@signature-params`. */
  signatureParams: string
  /** `created` in seconds since the epoch. */
  created: number
  expires: number | undefined
  keyid: string | undefined
  /** Raw signature bytes (64 for Ed25519 and ES256). */
  signature: Uint8Array
  key: SignatureKeyMember
}

/** A public key ready for `node:crypto`, with the algorithm it is bound to. */
export interface VerifyKey {
  alg: SignatureAlgorithm
  key: KeyObject
  /** The public JWK (as received, without private members). */
  jwk: Readonly<JsonWebKey>
  /** RFC 7638 SHA-256 thumbprint, base64url. */
  thumbprint: string
}

/** The parts of the public request the signature base reads (RFC 9421 §2). */
export interface SignedRequest {
  method: string
  /** The public authority the agent signed: `resource.authority` when configured. */
  authority: string
  /** The path without the query, `/` when empty. */
  path: string
  /** The query including the leading `?`, or `?` when there is none (RFC 9421 §2.2.7). */
  query: string
  /** Lower-cased header name -> raw field values (several lines kept apart). */
  headers: Readonly<Record<string, string | readonly string[] | undefined>>
}

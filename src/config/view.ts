import type { X509Certificate } from 'node:crypto'
import type { LimitsConfig, SignaturesConfig, TrustConfig } from './schema.js'

/**
 * The part of the compiled snapshot that signature and token verification read. Kept narrow so
 * `src/signature`, `src/keys` and `src/tokens` do not depend on routes or policies.
 */
export interface ResourceConfigView {
  /** This resource's identifier (`aud` of person/auth tokens). */
  readonly issuer: string
  /** The public authority agents sign, e.g. `api.example.com`. */
  readonly authority: string
  readonly trust: Readonly<TrustConfig>
  readonly signatures: Readonly<SignaturesConfig>
  readonly limits: Readonly<LimitsConfig>
  /** The CA certificates of `trust.x509_anchors`, read at load (the `x509` scheme). */
  readonly x509Anchors: readonly X509Certificate[]
}

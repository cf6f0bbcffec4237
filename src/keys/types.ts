import type { Identity, SchemeName } from '../identity.js'
import type { ResourceConfigView } from '../config/view.js'
import type { SignatureKeyMember, VerifyKey } from '../signature/types.js'

/** What a scheme resolver learned: the key that must have signed, and who that makes the caller. */
export interface ResolvedKey {
  key: VerifyKey
  /** Identity facts the scheme established; `thumbprint` is filled from `key`. */
  identity: Omit<Identity, 'thumbprint'>
}

/**
 * Everything a resolver may consult. Built from the current config snapshot plus the long-lived
 * services (caches survive reloads); nothing here is module-level state.
 */
export interface ResolveContext {
  config: ResourceConfigView
  /** Seconds since the epoch; injectable only for conformance vectors with frozen clocks. */
  now(): number
}

/** Resolves one Signature-Key scheme to a key (Signature-Key draft §3). Throws `SignatureError`. */
export type KeyResolver = (member: SignatureKeyMember, ctx: ResolveContext) => Promise<ResolvedKey>

export type SchemeTable = Readonly<Record<SchemeName, KeyResolver>>

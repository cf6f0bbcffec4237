import { SignatureError } from '../errors.js'
import type { Identity } from '../identity.js'
import type { ExpiringKeyStore } from '../replay/store.js'
import { TOKEN_KINDS } from '../tokens/kinds.js'

/**
 * The pipeline's side of revocation (AAuth -11 §11.12): a presented person or auth token whose
 * issuer revoked it is refused. The endpoint that records revocations is
 * `src/resource/revocation-endpoint.ts`; both key the store with `revocationKey`.
 */

/** Token types a person or access server may revoke at a resource (AAuth -11 §11.12). */
export const REVOCABLE: ReadonlySet<string> = new Set(['aa-person+jwt', 'aa-auth+jwt', 'auth+jwt'])

/** Key of a revoked token: the verified issuer and its `jti`. */
export function revocationKey(issuer: string, jti: string): string {
  return `${issuer} ${jti}`
}

/** Refuses a presented person or auth token its issuer revoked (`revoked_jwt`, AAuth -11 §11.12). */
export async function checkNotRevoked(identity: Omit<Identity, 'thumbprint'>, store: ExpiringKeyStore): Promise<void> {
  if (!REVOCABLE.has(identity.tokenType)) return
  const jti = identity.claims.jti
  if (typeof jti !== 'string' || !(await store.has(revocationKey(identity.issuer, jti)))) return
  // A revoked auth token sends the agent back for a person token, never for another auth token.
  throw new SignatureError('revoked_jwt', 'the issuer revoked this token', {
    requirement: identity.tokenType === 'aa-person+jwt' ? undefined : 'person-token',
  })
}

/**
 * The longest lifetime of any token type that can be revoked (AAuth -11: person and auth
 * tokens at most 1 h), read from the token kinds so the two never disagree.
 */
export function longestRevocableLifetime(): number {
  let longest = 0
  for (const typ of REVOCABLE) {
    const lifetime = TOKEN_KINDS[typ]?.maxLifetime
    if (lifetime === undefined) throw new Error(`revocable token type ${typ} has no maxLifetime`)
    longest = Math.max(longest, lifetime)
  }
  return longest
}

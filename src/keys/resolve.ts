import { SignatureError } from '../errors.js'
import type { SchemeName } from '../identity.js'
import type { SignatureKeyMember } from '../signature/types.js'
import { SCHEME_RESOLVERS } from './schemes/index.js'
import type { ResolveContext, ResolvedKey } from './types.js'

/**
 * Resolves the selected Signature-Key member to the key that must have signed and the identity
 * it establishes (AAuth "Verification (Server)" steps 4-6). A scheme that is not both listed in
 * `signatures.schemes` and implemented is `unsupported_scheme` (the renderer adds
 * `Accept-Signature-Scheme`). Throws `SignatureError`.
 */
export async function resolveKey(member: SignatureKeyMember, ctx: ResolveContext): Promise<ResolvedKey> {
  const scheme = member.scheme
  if (!isAccepted(scheme, ctx)) throw new SignatureError('unsupported_scheme', 'this Signature-Key scheme is not accepted')
  return SCHEME_RESOLVERS[scheme](member, ctx)
}

function isAccepted(scheme: string, ctx: ResolveContext): scheme is SchemeName {
  return Object.hasOwn(SCHEME_RESOLVERS, scheme) && (ctx.config.signatures.schemes as readonly string[]).includes(scheme)
}

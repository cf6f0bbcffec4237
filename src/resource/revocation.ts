import type { CompiledRoute } from '../config/compile.js'
import { LocalReplyError, SignatureError } from '../errors.js'
import type { Identity } from '../identity.js'
import type { RequestContext } from '../pipeline/context.js'
import { checkBodyDigest } from '../pipeline/body.js'
import { rememberSignature, verifySignature } from '../pipeline/verify.js'
import type { ExpiringKeyStore } from '../replay/store.js'
import { ALWAYS_REQUIRED_COMPONENTS } from '../signature/components.js'
import { TOKEN_KINDS } from '../tokens/kinds.js'
import { REVOCATION_PATH } from './metadata.js'


/** Token types a person or access server may revoke at a resource (AAuth -11 §11.12). */
const REVOCABLE = new Set(['aa-person+jwt', 'aa-auth+jwt', 'auth+jwt'])

/** Servers sign revocations as themselves, under the metadata document of their role. */
const SERVER_DOCUMENTS = new Set(['aauth-person.json', 'aauth-access.json'])

/**
 * The revocation endpoint's pseudo-route: a signed POST whose body is covered by
 * `content-digest` and `content-type` (AAuth -11 §11.12). It is never forwarded.
 */
export const REVOCATION_ROUTE: CompiledRoute = Object.freeze({
  name: 'revocation',
  host: undefined,
  pathPrefix: REVOCATION_PATH,
  methods: new Set(['POST']),
  upstream: new URL('http://0.0.0.0/'),
  upstreamOrigin: 'http://0.0.0.0',
  upstreamPathPrefix: '',
  access: 'identified' as const,
  policy: undefined,
  scopes: Object.freeze([]),
  requiredComponents: Object.freeze([...ALWAYS_REQUIRED_COMPONENTS, 'content-digest', 'content-type']),
  mode: 'enforce' as const,
  stripSignatureHeaders: false,
  timeoutMs: 0,
  rateLimit: undefined,
  cors: undefined,
})

/** Key of a revoked token: the verified issuer and its `jti`. */
export function revocationKey(issuer: string, jti: string): string {
  return `${issuer} ${jti}`
}

/**
 * Handles `POST {revocation_endpoint}` with `{"jti": "...", "exp": <int>}`. The issuer is the
 * verified caller (a `jwks_uri` signature by a trusted person or access server), never a body
 * field. Answers 200 with an empty body; there is no 404 (unknown `jti`s are simply recorded).
 * Bounded (docs/replay-and-revocation.md): an `exp` further ahead than any revocable token can
 * live is 400; an issuer at `signatures.revocation.max_per_issuer` live revocations is 429, a
 * store at `max_entries` is 503, both with `Retry-After`; a live revocation is never dropped.
 */
export async function handleRevocation(ctx: RequestContext): Promise<void> {
  ctx.route = REVOCATION_ROUTE
  ctx.keyConfig = ctx.snapshot.revocationView
  await verifySignature(ctx)
  const caller = ctx.identity
  const dwk = ctx.signature?.key.params.get('dwk')
  if (caller.level === 'none' || caller.scheme !== 'jwks_uri' || typeof dwk !== 'string' || !SERVER_DOCUMENTS.has(dwk)) {
    if (caller.level === 'none') throw new SignatureError('invalid_signature', 'a revocation must be signed')
    throw new LocalReplyError('unsupported_iss', 'revocations are accepted from trusted person and access servers signing with jwks_uri')
  }
  await checkBodyDigest(ctx)
  await rememberSignature(ctx)
  const { jti, exp } = parseBody(ctx.body)
  const now = Math.floor(Date.now() / 1000)
  const { window } = ctx.snapshot.resource.signatures
  // No token accepted here outlives this: `iat` may be up to `window` ahead, then `maxLifetime`.
  const furthest = longestRevocableLifetime() + window
  if (exp - now > furthest) {
    throw new LocalReplyError('bad_request', `exp is more than ${furthest} s ahead; no revocable token accepted here lives that long`)
  }
  const ttl = exp - now + window
  if (ttl <= 0) return
  // Grouped by issuer, so one server cannot crowd out the others' revocations.
  const remembered = await ctx.services.store.revoked.remember(revocationKey(caller.agent, jti), ttl, caller.agent)
  if (remembered.outcome !== 'full') return
  const { retryAfterSeconds } = remembered
  if (remembered.bound === 'group') {
    throw new LocalReplyError('rate_limited', 'this issuer holds as many unexpired revocations as the gateway keeps per issuer', { retryAfterSeconds })
  }
  throw new LocalReplyError('store_full', 'the gateway holds as many unexpired revocations as it keeps', { retryAfterSeconds })
}

/**
 * The longest lifetime of any token type that can be revoked (AAuth -11: person and auth
 * tokens at most 1 h), read from the token kinds so the two never disagree. Computed on call:
 * this module and the token kinds import each other through the pipeline.
 */
function longestRevocableLifetime(): number {
  let longest = 0
  for (const typ of REVOCABLE) {
    const lifetime = TOKEN_KINDS[typ]?.maxLifetime
    if (lifetime === undefined) throw new Error(`revocable token type ${typ} has no maxLifetime`)
    longest = Math.max(longest, lifetime)
  }
  return longest
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

function parseBody(body: Buffer | undefined): { jti: string; exp: number } {
  let parsed: unknown
  try {
    parsed = JSON.parse(body?.toString('utf8') ?? '')
  } catch {
    throw new LocalReplyError('bad_request', 'the body must be JSON {"jti": string, "exp": integer}')
  }
  const { jti, exp } = (parsed ?? {}) as { jti?: unknown; exp?: unknown }
  if (typeof jti !== 'string' || jti === '' || typeof exp !== 'number' || !Number.isSafeInteger(exp)) {
    throw new LocalReplyError('bad_request', 'the body must be JSON {"jti": string, "exp": integer}')
  }
  return { jti, exp }
}

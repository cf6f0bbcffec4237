import type { CompiledRoute } from '../config/compile.js'
import { LocalReplyError, SignatureError } from '../errors.js'
import type { Identity } from '../identity.js'
import type { RequestContext } from '../pipeline/context.js'
import { checkBodyDigest } from '../pipeline/body.js'
import { rememberSignature, verifySignature } from '../pipeline/verify.js'
import type { ExpiringKeyStore } from '../replay/store.js'
import { ALWAYS_REQUIRED_COMPONENTS } from '../signature/components.js'
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
})

/** Key of a revoked token: the verified issuer and its `jti`. */
export function revocationKey(issuer: string, jti: string): string {
  return `${issuer} ${jti}`
}

/**
 * Handles `POST {revocation_endpoint}` with `{"jti": "...", "exp": <int>}`. The issuer is the
 * verified caller (a `jwks_uri` signature by a trusted person or access server), never a body
 * field. Answers 200 with an empty body; there is no 404 (unknown `jti`s are simply recorded).
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
  const ttl = exp - Math.floor(Date.now() / 1000) + ctx.snapshot.resource.signatures.window
  if (ttl > 0) await ctx.services.revoked.remember(revocationKey(caller.agent, jti), ttl)
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

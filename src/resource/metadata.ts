import type { Snapshot } from '../config/compile.js'
import { REVOCATION_PATH } from './revocation.js'

export const RESOURCE_METADATA_PATH = '/.well-known/aauth-resource.json'
export const RESOURCE_JWKS_PATH = '/.well-known/aauth-resource-jwks.json'

/**
 * The resource's metadata (AAuth -11 "Resource Metadata"). Published on the proxy listener so
 * agents find it at the resource's own origin.
 */
export function resourceMetadata(s: Snapshot): Record<string, unknown> {
  const r = s.resource
  const extra = new Set<string>()
  for (const name of s.routeNames) {
    const route = s.routes.byName(name)
    for (const c of route?.requiredComponents ?? []) extra.add(c)
  }
  for (const c of ['@method', '@authority', '@path', 'signature-key']) extra.delete(c)
  const metadata: Record<string, unknown> = {
    issuer: r.issuer,
    access_mode: accessMode(s),
    signature_window: r.signatures.window,
    accept_signature_algs: r.signatures.algorithms,
    scope_descriptions: r.scopes,
    additional_signature_components: [...extra],
  }
  if (r.signingKey) {
    metadata.jwks_uri = r.issuer + RESOURCE_JWKS_PATH
    metadata.revocation_endpoint = r.issuer + REVOCATION_PATH
  }
  return metadata
}

export function resourceJwks(s: Snapshot): { keys: unknown[] } {
  return { keys: s.resource.signingKey ? [s.resource.signingKey.publicJwk] : [] }
}

/** Advisory only (the runtime AAuth-Requirement is what counts): the strongest mode any route uses. */
function accessMode(s: Snapshot): string {
  const levels = new Set(s.routeNames.map((n) => s.routes.byName(n)?.access))
  return levels.has('authorized') ? 'auth-token' : 'agent-token'
}

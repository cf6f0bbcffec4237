import type { ResourceSettings } from './settings.js'
import type { CompiledRoute } from '../routes/route.js'
import { ALWAYS_REQUIRED_COMPONENTS } from '../signature/components.js'

export const RESOURCE_METADATA_PATH = '/.well-known/aauth-resource.json'
export const RESOURCE_JWKS_PATH = '/.well-known/aauth-resource-jwks.json'
/** Where the resource's `revocation_endpoint` is served (on the proxy listener). */
export const REVOCATION_PATH = '/aauth/revocation'
/** Where the resource's `authorization_endpoint` is served, with `resource.authorization`. */
export const AUTHORIZATION_PATH = '/aauth/authorize'

/**
 * The documents the proxy listener publishes at the resource's own origin, path -> JSON body:
 * its metadata (AAuth -11 "Resource Metadata") and, with a signing key, the JWKS it names.
 * Built once per snapshot, since they change only with the config.
 */
export function wellKnownDocuments(r: ResourceSettings, routes: readonly CompiledRoute[]): ReadonlyMap<string, string> {
  const documents = new Map([[RESOURCE_METADATA_PATH, JSON.stringify(resourceMetadata(r, routes))]])
  if (r.signingKey) documents.set(RESOURCE_JWKS_PATH, JSON.stringify({ keys: [r.signingKey.publicJwk] }))
  return documents
}

function resourceMetadata(r: ResourceSettings, routes: readonly CompiledRoute[]): Record<string, unknown> {
  const extra = new Set(routes.flatMap((route) => route.requiredComponents))
  for (const c of ALWAYS_REQUIRED_COMPONENTS) extra.delete(c)
  const metadata: Record<string, unknown> = {
    issuer: r.issuer,
    // Advisory only (the runtime AAuth-Requirement is what counts): the strongest mode any route uses.
    access_mode: routes.some((route) => route.access === 'authorized')
      ? 'auth-token'
      : routes.some((route) => route.access === 'session-token')
        ? 'session-token'
        : 'agent-token',
    signature_window: r.signatures.window,
    accept_signature_algs: r.signatures.algorithms,
    scope_descriptions: r.scopes,
    additional_signature_components: [...extra],
  }
  if (r.signingKey) {
    metadata.jwks_uri = r.issuer + RESOURCE_JWKS_PATH
    metadata.revocation_endpoint = r.issuer + REVOCATION_PATH
  }
  if (r.authorization) metadata.authorization_endpoint = r.issuer + AUTHORIZATION_PATH
  return metadata
}

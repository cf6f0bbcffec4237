import type { ResourceSettings } from './settings.js'
import type { CompiledRoute } from '../routes/route.js'
import { ALWAYS_REQUIRED_COMPONENTS } from '../signature/components.js'
import { advertisedMode, type AccessMode } from './access-mode.js'

export const RESOURCE_METADATA_PATH = '/.well-known/aauth-resource.json'
export const RESOURCE_JWKS_PATH = '/.well-known/aauth-resource-jwks.json'
/** Where the resource's `revocation_endpoint` is served (on the proxy listener). */
export const REVOCATION_PATH = '/aauth/revocation'

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
  const common = commonComponents(routes)
  const mode = mostUsedMode(routes)
  const metadata: Record<string, unknown> = { issuer: r.issuer }
  if (r.name !== undefined) metadata.name = r.name
  if (r.description !== undefined) metadata.description = r.description
  if (r.signingKey) metadata.jwks_uri = r.issuer + RESOURCE_JWKS_PATH
  // Advisory only (the runtime AAuth-Requirement is what counts, -11 "Resource Metadata").
  if (mode !== undefined) metadata.access_mode = mode
  if (r.authorizationEndpoint !== undefined) metadata.authorization_endpoint = r.authorizationEndpoint
  metadata.signature_window = r.signatures.window
  metadata.accept_signature_algs = r.signatures.algorithms
  metadata.scope_descriptions = r.scopes
  metadata.additional_signature_components = common
  if (r.signingKey) metadata.revocation_endpoint = r.issuer + REVOCATION_PATH
  const endpoints = routes.flatMap((route) => endpointEntry(route, mode, common))
  if (endpoints.length > 0) metadata.endpoints = endpoints
  return metadata
}

/** A route's components beyond the four every signature covers. */
function extraComponents(route: CompiledRoute): string[] {
  return route.requiredComponents.filter((c) => !ALWAYS_REQUIRED_COMPONENTS.includes(c))
}

/**
 * The components every route requires: the top-level `additional_signature_components`, so
 * that no route is over-advertised; a route needing more lists them in its `endpoints` entry.
 */
function commonComponents(routes: readonly CompiledRoute[]): string[] {
  const [first, ...rest] = routes
  if (first === undefined) return []
  return extraComponents(first).filter((c) => rest.every((route) => route.requiredComponents.includes(c)))
}

/** The mode most routes advertise (the first seen on a tie); `undefined` when every route is open. */
function mostUsedMode(routes: readonly CompiledRoute[]): AccessMode | undefined {
  const counts = new Map<AccessMode, number>()
  for (const route of routes) {
    const mode = advertisedMode(route.access)
    if (mode !== undefined) counts.set(mode, (counts.get(mode) ?? 0) + 1)
  }
  let best: AccessMode | undefined
  for (const [mode, n] of counts) if (best === undefined || n > (counts.get(best) ?? 0)) best = mode
  return best
}

/**
 * A route whose mode or components differ from the document's top level is listed under
 * `endpoints` (a gateway extension; agents ignore members they do not know, -11 "AAuth-Capabilities
 * Request Header" on ignoring the unrecognised), by what it matches, with what differs.
 */
function endpointEntry(route: CompiledRoute, topMode: AccessMode | undefined, common: readonly string[]): Record<string, unknown>[] {
  const mode = advertisedMode(route.access)
  const extra = extraComponents(route)
  const modeDiffers = mode !== undefined && mode !== topMode
  const componentsDiffer = extra.length !== common.length
  if (!modeDiffers && !componentsDiffer) return []
  const entry: Record<string, unknown> = { path_prefix: route.pathPrefix }
  if (route.host !== undefined) entry.host = route.host
  if (route.methods !== undefined) entry.methods = [...route.methods]
  if (modeDiffers) entry.access_mode = mode
  if (componentsDiffer) entry.additional_signature_components = extra
  return [entry]
}

/** A server identifier (-11 "Server Identifiers"): https, a lower-case host, no port or path. */
const SERVER_IDENTIFIER = /^https:\/\/[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$/

/**
 * The `Link` value naming this resource's metadata (-11 §11.2.5 "Resource Metadata Link
 * Relation"): `<{issuer}/.well-known/aauth-resource.json>; rel="aauth-resource"`. Its target
 * must be a server identifier plus that path, and agents must not fetch any other form, so an
 * issuer that is not one (http, a port: local setups) gets no link rather than a wrong one.
 */
export function resourceLink(issuer: string): string | undefined {
  if (!SERVER_IDENTIFIER.test(issuer)) return undefined
  return `<${issuer}${RESOURCE_METADATA_PATH}>; rel="aauth-resource"`
}

import type { ResourceSettings } from './settings.js'
import type { CompiledRoute, DocumentRoute, RouteEntry } from '../routes/route.js'
import { ALWAYS_REQUIRED_COMPONENTS } from '../signature/components.js'
import { RESOURCE_JWKS_PATH, RESOURCE_METADATA_PATH, REVOCATION_PATH, wellKnownDocuments } from './metadata.js'

/** The `route` label of the resource's own documents. */
export const DOCUMENT_ROUTE_NAME = '(well-known)'

/**
 * The paths the gateway answers itself at the resource's origin: the metadata document and,
 * with `resource.signing_key`, the JWKS it publishes and the revocation endpoint. Each is one
 * exact path; a configured route whose `path_prefix` is one of them is a config error (README
 * "Routes"), while a route with a shorter prefix (`/`, `/.well-known`) keeps every other path.
 */
export function reservedPaths(signingKeyConfigured: boolean): readonly string[] {
  return signingKeyConfigured ? [RESOURCE_METADATA_PATH, RESOURCE_JWKS_PATH, REVOCATION_PATH] : [RESOURCE_METADATA_PATH]
}

/** The resource's own endpoints as routing-table entries, for the configured routes given. */
export function resourceEndpoints(resource: ResourceSettings, routes: readonly CompiledRoute[]): RouteEntry[] {
  const entries: RouteEntry[] = []
  for (const [path, body] of wellKnownDocuments(resource, routes)) entries.push(documentRoute(path, body))
  if (resource.signingKey) entries.push(REVOCATION_ROUTE)
  return entries
}

function documentRoute(path: string, body: string): DocumentRoute {
  // GET only: another method on the path goes on to the configured routes, as before they existed.
  return { kind: 'document', name: DOCUMENT_ROUTE_NAME, host: undefined, pathPrefix: path, exact: true, methods: new Set(['GET']), body }
}

/**
 * The revocation endpoint (AAuth -11 §11.12): a signed POST whose body is covered by
 * `content-digest` and `content-type`, verified like a route and never forwarded. It takes every
 * method, so that anything but POST gets 405 with `Allow: POST` rather than reaching a route.
 */
const REVOCATION_ROUTE: CompiledRoute = Object.freeze({
  kind: 'revocation' as const,
  name: 'revocation',
  host: undefined,
  pathPrefix: REVOCATION_PATH,
  exact: true,
  methods: undefined,
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

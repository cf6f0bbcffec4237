import type { ResourceSettings } from './settings.js'
import type { CompiledRoute, DocumentRoute, PendingRoute, RouteEntry } from '../routes/route.js'
import { PENDING_PATH_PREFIX } from './deferred.js'
import { ALWAYS_REQUIRED_COMPONENTS } from '../signature/components.js'
import { AUTHORIZATION_PATH, RESOURCE_JWKS_PATH, RESOURCE_METADATA_PATH, REVOCATION_PATH, wellKnownDocuments } from './metadata.js'

/** The `route` label of the resource's own documents. */
export const DOCUMENT_ROUTE_NAME = '(well-known)'

/**
 * The paths the gateway answers itself at the resource's origin: the metadata document and,
 * with `resource.signing_key`, the JWKS it publishes and the revocation endpoint. Each is one
 * exact path; a configured route whose `path_prefix` is one of them is a config error (README
 * "Routes"), while a route with a shorter prefix (`/`, `/.well-known`) keeps every other path.
 */
export function reservedPaths(signingKeyConfigured: boolean, authorizationConfigured = false): readonly string[] {
  const paths = signingKeyConfigured ? [RESOURCE_METADATA_PATH, RESOURCE_JWKS_PATH, REVOCATION_PATH] : [RESOURCE_METADATA_PATH]
  return authorizationConfigured ? [...paths, AUTHORIZATION_PATH] : paths
}

/** The resource's own endpoints as routing-table entries, for the configured routes given. */
export function resourceEndpoints(resource: ResourceSettings, routes: readonly CompiledRoute[]): RouteEntry[] {
  const entries: RouteEntry[] = []
  for (const [path, body] of wellKnownDocuments(resource, routes)) entries.push(documentRoute(path, body))
  if (resource.signingKey) entries.push(REVOCATION_ROUTE)
  if (resource.authorization) entries.push(AUTHORIZATION_ROUTE)
  if (routes.some((r) => r.deferred)) entries.push(PENDING_ROUTE)
  return entries
}

/** The path under which deferred challenges' pending URLs live, without its trailing `/`. */
export const PENDING_PREFIX = PENDING_PATH_PREFIX.replace(/\/$/, '')

/** Every path beneath `/aauth/pending`, any method: a poll is answered here, never forwarded. */
const PENDING_ROUTE: PendingRoute = Object.freeze({
  kind: 'pending',
  name: '(pending)',
  host: undefined,
  pathPrefix: PENDING_PREFIX,
  methods: undefined,
})

function documentRoute(path: string, body: string): DocumentRoute {
  // GET only: another method on the path goes on to the configured routes, as before they existed.
  return { kind: 'document', name: DOCUMENT_ROUTE_NAME, host: undefined, pathPrefix: path, exact: true, methods: new Set(['GET']), body }
}

/**
 * The revocation endpoint (AAuth -11 §11.12): a signed POST whose body is covered by
 * `content-digest` and `content-type`, verified like a route and never forwarded. It takes every
 * method, so that anything but POST gets 405 with `Allow: POST` rather than reaching a route.
 */
const REVOCATION_ROUTE: CompiledRoute = ownEndpoint('revocation', REVOCATION_PATH, [
  ...ALWAYS_REQUIRED_COMPONENTS,
  'content-digest',
  'content-type',
])

/**
 * The authorization endpoint (AAuth -11 "Authorization Endpoint Request"): a signed POST with a
 * person token, verified like a route and answered by the gateway (src/resource/authorization-endpoint.ts).
 * It requires only the four components the draft mandates; a `content-digest` the agent covers is
 * checked against the body.
 */
const AUTHORIZATION_ROUTE: CompiledRoute = ownEndpoint('authorization', AUTHORIZATION_PATH, ALWAYS_REQUIRED_COMPONENTS)

function ownEndpoint(kind: 'revocation' | 'authorization', path: string, components: readonly string[]): CompiledRoute {
  return Object.freeze({
    kind,
    name: kind,
    host: undefined,
    pathPrefix: path,
    exact: true,
    methods: undefined,
    upstream: new URL('http://0.0.0.0/'),
    upstreamOrigin: 'http://0.0.0.0',
    upstreamPathPrefix: '',
    access: 'identified' as const,
    policy: undefined,
    scopes: Object.freeze([]),
    requiredComponents: Object.freeze([...components]),
    mode: 'enforce' as const,
    stripSignatureHeaders: false,
    timeoutMs: 0,
    rateLimit: undefined,
    cors: undefined,
  })
}

import type { SignedRequest } from './types.js'

/**
 * The derived components (RFC 9421 §2.2) the gateway can compute from the public request the
 * agent signed. A table, so adding one is one entry (docs/architecture.md). Missing on purpose:
 *  - `@target-uri` and `@scheme`: they need the public scheme, which a proxy behind TLS
 *    termination cannot know for sure (`SignedRequest` does not carry it);
 *  - `@request-target`: its form depends on the request line (origin/absolute/authority form);
 *  - `@query-param`: needs the `name` parameter (component parameters are not supported);
 *  - `@status`: responses only.
 * A signature that covers one of those is refused with `invalid_input` before the base is built.
 */
export const DERIVED_COMPONENTS = {
  /** §2.2.1: the method as sent, case untouched. */
  '@method': (req) => req.method,
  /** §2.2.3: the public authority, lower-cased (default port already omitted by config). */
  '@authority': (req) => req.authority.toLowerCase(),
  /** §2.2.6: the absolute path without the query; `/` when empty. */
  '@path': (req) => (req.path === '' ? '/' : req.path),
  /** §2.2.7: the query with its leading `?`; `?` alone when there is none. */
  '@query': (req) => (req.query === '' ? '?' : req.query),
} as const satisfies Record<string, (req: SignedRequest) => string>

export type DerivedComponent = keyof typeof DERIVED_COMPONENTS

export function isDerivedComponent(name: string): name is DerivedComponent {
  return Object.hasOwn(DERIVED_COMPONENTS, name)
}

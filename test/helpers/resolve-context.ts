import type { X509Certificate } from 'node:crypto'
import { configSchema } from '../../src/config/schema.js'
import type { ResourceConfigView } from '../../src/config/view.js'
import { createKeyServices, type KeyServicesOptions } from '../../src/keys/services.js'
import type { KeyServices, ResolveContext } from '../../src/keys/types.js'

/**
 * A `ResourceConfigView` from config-file sections (`resource.issuer`, `trust`, `signatures`,
 * `limits`), with the schema's defaults for the rest, so tests read like the YAML they mirror.
 */
export function resourceConfig(sections: {
  issuer?: string
  trust?: Record<string, unknown>
  signatures?: Record<string, unknown>
  limits?: Record<string, unknown>
  /** The parsed `trust.x509_anchors`. */
  x509Anchors?: readonly X509Certificate[]
} = {}): ResourceConfigView {
  const parsed = configSchema.parse({
    resource: { issuer: sections.issuer ?? 'https://resource.test' },
    trust: sections.trust ?? {},
    signatures: sections.signatures ?? {},
    limits: sections.limits ?? {},
  })
  return Object.freeze({
    issuer: parsed.resource.issuer,
    authority: new URL(parsed.resource.issuer).host,
    trust: parsed.trust,
    signatures: parsed.signatures,
    limits: parsed.limits,
    x509Anchors: sections.x509Anchors ?? [],
  })
}

/** A resolve context over fresh (or given) key services and the real clock unless `now` is given. */
export function resolveContext(
  config: ResourceConfigView,
  options: { services?: KeyServices; now?: () => number; serviceOptions?: KeyServicesOptions } = {},
): ResolveContext {
  return {
    config,
    now: options.now ?? (() => Math.floor(Date.now() / 1000)),
    services: options.services ?? createKeyServices(options.serviceOptions),
  }
}

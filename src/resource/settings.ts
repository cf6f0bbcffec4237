import type { ResourceKey } from '../config/resource-key.js'
import type { ResourceConfigView } from '../config/view.js'

/**
 * The resource's own settings, compiled: the view verification reads, plus its scope
 * descriptions, signing key and access server (what resource tokens and metadata need).
 */
export interface ResourceSettings extends ResourceConfigView {
  readonly scopes: Readonly<Record<string, string>>
  readonly signingKey: ResourceKey | undefined
  readonly accessServer: string | undefined
  /** `resource.name`, `resource.description`, `resource.authorization_endpoint` (metadata only). */
  readonly name?: string
  readonly description?: string
  readonly authorizationEndpoint?: string
}

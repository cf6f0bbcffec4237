import type { ResourceConfigView } from '../config/view.js'

/**
 * Who may be asked for keys. Discovery only ever contacts an issuer that is both a well-formed
 * server identifier and listed in the trust list for its role (docs/configuration.md `trust`).
 */

/** The trust lists of docs/configuration.md, one per issuer role. */
export type TrustList = 'agent_providers' | 'person_servers' | 'access_servers'

/** A DNS host in A-labels, lower case: LDH labels of 1-63 characters, no edge hyphens. */
const LABEL = '[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?'
const HOST = new RegExp(`^(?=.{1,253}$)${LABEL}(?:\\.${LABEL})*$`)
const PORT = /^(?:[1-9][0-9]{0,4})$/

/**
 * A server identifier (AAuth -11 §11.1.1): `https://` plus a lower-case host, with no port,
 * path, query, fragment, userinfo or trailing slash. Compared as an exact string.
 */
export function isServerIdentifier(value: unknown): value is string {
  return typeof value === 'string' && isHttpsHost(value)
}

function isHttpsHost(value: string): boolean {
  return value.startsWith('https://') && HOST.test(value.slice(8))
}

/**
 * An issuer this gateway may contact: a server identifier, or an `http://` origin listed exactly
 * in `trust.insecure_issuers`. The January-2026 format also allows an https origin with a port.
 */
export function isIssuerOrigin(value: unknown, config: ResourceConfigView, legacy: boolean): value is string {
  if (typeof value !== 'string') return false
  if (isHttpsHost(value)) return true
  if (config.trust.insecure_issuers.includes(value)) return true
  if (!legacy || !value.startsWith('https://')) return false
  const [host = '', port, ...rest] = value.slice(8).split(':')
  return rest.length === 0 && HOST.test(host) && (port === undefined || PORT.test(port))
}

/**
 * Whether `origin` is listed in one of `lists`. `"*"` admits any https issuer, and any http
 * origin listed in `trust.insecure_issuers` (an operator listed it on purpose).
 */
export function isTrusted(origin: string, lists: readonly TrustList[], config: ResourceConfigView): boolean {
  return lists.some((list) => {
    const listed: readonly string[] = config.trust[list]
    if (listed.includes(origin)) return true
    return listed.includes('*') && (origin.startsWith('https://') || config.trust.insecure_issuers.includes(origin))
  })
}

/** The origin (`scheme://host[:port]`) of an http(s) URL, or undefined when it is not one. */
export function originOf(url: string): string | undefined {
  try {
    const parsed = new URL(url)
    return parsed.protocol === 'https:' || parsed.protocol === 'http:' ? parsed.origin : undefined
  } catch {
    return undefined
  }
}

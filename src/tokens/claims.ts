import { SignatureError } from '../errors.js'
import type { ResourceConfigView } from '../config/view.js'
import { isIssuerOrigin } from '../keys/trust.js'
import type { Claims } from './types.js'

/** Claim checks shared by token kinds (AAuth -11 §5, §7, §9.4, §11.5). All failures are `invalid_jwt`. */

const AGENT_ID = /^aauth:([A-Za-z0-9._-]+)(?:\+([A-Za-z0-9._-]+))?@([^@]+)$/
const LABEL = '[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?'
const HOST = new RegExp(`^(?=.{1,253}$)${LABEL}(?:\\.${LABEL})*$`)
/** Longest `act` chain followed; a deeper one is refused. */
const MAX_ACT_DEPTH = 16

export function invalidJwt(detail: string): SignatureError {
  return new SignatureError('invalid_jwt', detail)
}

/** An agent identifier `aauth:local@domain` (AAuth -11 §5.2): local 1-255 chars, `+` only once, inside. */
export function isAgentIdentifier(value: unknown): boolean {
  if (typeof value !== 'string') return false
  const match = AGENT_ID.exec(value)
  if (match === null) return false
  const local = value.slice('aauth:'.length, value.lastIndexOf('@'))
  return local.length <= 255 && HOST.test(match[3] ?? '')
}

/** A required non-empty string claim. */
export function requireString(claims: Claims, name: string): string {
  const value = claims[name]
  if (typeof value !== 'string' || value === '') throw invalidJwt(`the ${name} claim is required`)
  return value
}

/** An optional string claim; present with another type is refused. */
export function optionalString(claims: Claims, name: string): string {
  const value = claims[name]
  if (value === undefined) return ''
  if (typeof value !== 'string') throw invalidJwt(`the ${name} claim must be a string`)
  return value
}

/** `aud` names this resource: equal to it, or an array that contains it (RFC 7519 §4.1.3). */
export function requireAudience(claims: Claims, resource: string): void {
  const aud = claims.aud
  const ok = aud === resource || (Array.isArray(aud) && aud.includes(resource))
  if (!ok) throw invalidJwt('the token is not addressed to this resource (aud)')
}

/** `ps`, when present, is a server identifier (AAuth -11 §5.1, §9.4), or a listed insecure origin. */
export function checkPersonServer(claims: Claims, config: ResourceConfigView): void {
  if (claims.ps !== undefined && !isIssuerOrigin(claims.ps, config, false)) {
    throw invalidJwt('the ps claim is not a server identifier')
  }
}

/** `scope`: space-separated (RFC 9068 style) -> list; absent -> empty. */
export function scopeList(claims: Claims): readonly string[] {
  const scope = claims.scope
  if (scope === undefined) return Object.freeze([])
  if (typeof scope !== 'string') throw invalidJwt('the scope claim must be a string')
  return Object.freeze(scope.split(' ').filter((s) => s !== ''))
}

/** The RFC 8693 `act` chain, current actor first, each actor's claims without its nested `act`. */
export function delegationChain(claims: Claims): readonly Readonly<Record<string, unknown>>[] {
  const chain: Readonly<Record<string, unknown>>[] = []
  let actor: unknown = claims.act
  while (actor !== undefined) {
    if (typeof actor !== 'object' || actor === null || Array.isArray(actor)) throw invalidJwt('the act claim must be an object')
    if (chain.length === MAX_ACT_DEPTH) throw invalidJwt('the act chain is too deep')
    const { act: next, ...facts } = actor as Record<string, unknown>
    chain.push(Object.freeze(facts))
    actor = next
  }
  return Object.freeze(chain)
}

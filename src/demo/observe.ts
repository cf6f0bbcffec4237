import { parseDictionary } from 'structured-headers'
import type { Exchange } from './delegate.js'
import type { StepContext } from './run.js'

/** What the delegate reads off an answer (the backend's view, the gateway's challenge), and the checks on it. */

/** The headers the echo backend says it received, or undefined when the answer did not come from it. */
export function backendSaw(ex: Exchange): Record<string, string> | undefined {
  try {
    const json = JSON.parse(ex.text) as { method?: unknown; headers?: unknown }
    if (typeof json.method !== 'string' || typeof json.headers !== 'object' || json.headers === null) return undefined
    return json.headers as Record<string, string>
  } catch {
    return undefined
  }
}

/** `AAuth-Requirement` (an RFC 8941 Dictionary): the requirement token and its `resource-token` parameter. */
export function requirementOf(ex: Exchange): { requirement: string; resourceToken: string | undefined } | undefined {
  const header = ex.headers.get('aauth-requirement')
  if (header === null) return undefined
  const member = parseDictionary(header).get('requirement')
  if (member === undefined) return undefined
  const token = member[1].get('resource-token')
  return { requirement: String(member[0]), resourceToken: typeof token === 'string' ? token : undefined }
}

/** A string member of a JSON answer (a token from an issuer). */
export function jsonMember(ex: Exchange, name: string): string | undefined {
  try {
    const value = (JSON.parse(ex.text) as Record<string, unknown>)[name]
    return typeof value === 'string' ? value : undefined
  } catch {
    return undefined
  }
}

/** Checks a 401 whose `Signature-Error` is `error=<code>`. */
export function expectSignatureError(t: StepContext, ex: Exchange, code: string): void {
  const header = ex.headers.get('signature-error')
  t.check(ex.status === 401 && header === `error=${code}`, `${ex.status} Signature-Error: ${header}`)
}

/** Checks a 401 whose `AAuth-Requirement` is exactly `requirement`. */
export function expectRequirement(t: StepContext, ex: Exchange, requirement: string): void {
  const header = ex.headers.get('aauth-requirement')
  t.check(ex.status === 401 && header === requirement, `${ex.status} AAuth-Requirement: ${header}`)
}

import { SignatureError } from '../errors.js'
import { quoted } from './fields.js'
import { isDerivedComponent } from './derived.js'
import type { ParsedSignature } from './types.js'

/**
 * Covered components every AAuth signature must include (AAuth -11 §11.3 "Covered Components",
 * docs/protocol.md "Signatures"): each closes a request-substitution attack, and `signature-key`
 * binds the key to the signature (Signature-Key draft §3).
 */
export const ALWAYS_REQUIRED_COMPONENTS: readonly string[] = Object.freeze([
  '@method',
  '@authority',
  '@path',
  'signature-key',
])

/** A field component name: lower-case RFC 9110 token (RFC 9421 §2.1 requires lower case). */
const FIELD_NAME = /^[!#$%&'*+.^_`|~0-9a-z-]+$/

/**
 * AAuth verification step 2. Throws `invalid_input`:
 *  - with `requiredInput` (every component required, so the agent can re-sign in one go) when
 *    one of the four always required, or one of `required` (the route's `components`, with or
 *    without the four), is not covered;
 *  - without it when a covered component cannot be computed: an unsupported derived component,
 *    a component with parameters, a non-lower-case field name, or a component listed twice
 *    (RFC 9421 §3.2 step 3: the base cannot be built, so the signature cannot verify).
 */
export function checkCoveredComponents(parsed: Pick<ParsedSignature, 'components'>, required: readonly string[]): void {
  const covered = parsed.components
  if (!coversAll(covered, ALWAYS_REQUIRED_COMPONENTS) || !coversAll(covered, required)) {
    const requiredInput = [...new Set([...ALWAYS_REQUIRED_COMPONENTS, ...required])]
    const missing = requiredInput.filter((c) => !covered.includes(c))
    throw new SignatureError('invalid_input', `the signature does not cover ${missing.join(', ')}`, {
      requiredInput,
    })
  }
  for (let i = 0; i < covered.length; i++) {
    const id = covered[i] as string
    if (!isComputableComponent(id)) {
      throw new SignatureError('invalid_input', `covered component ${quoted(id)} is not supported`)
    }
    if (covered.indexOf(id) !== i) {
      throw new SignatureError('invalid_input', `covered component ${quoted(id)} is listed twice`)
    }
  }
}

/**
 * True when the gateway can compute `id` for the signature base. Also for the config loader:
 * a route requiring a component the gateway cannot compute is an operator mistake.
 */
export function isComputableComponent(id: string): boolean {
  return id.startsWith('@') ? isDerivedComponent(id) : FIELD_NAME.test(id)
}

function coversAll(covered: readonly string[], required: readonly string[]): boolean {
  for (const c of required) if (!covered.includes(c)) return false
  return true
}

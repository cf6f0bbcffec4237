import { SignatureError } from '../../errors.js'
import type { SignatureKeyMember } from '../../signature/types.js'

/**
 * A string parameter of a Signature-Key member (Signature-Key §3: parameter values are
 * sf-strings). Absent -> undefined; present with another type -> `invalid_key`.
 */
export function optionalParam(member: SignatureKeyMember, name: string): string | undefined {
  const value = member.params.get(name)
  if (value === undefined) return undefined
  if (typeof value !== 'string') throw new SignatureError('invalid_key', `${member.scheme} parameter ${name} must be a string`)
  return value
}

/** A required string parameter: missing or empty -> `invalid_key` (the key cannot be found). */
export function requiredParam(member: SignatureKeyMember, name: string): string {
  const value = optionalParam(member, name)
  if (value === undefined || value === '') {
    throw new SignatureError('invalid_key', `${member.scheme} needs the ${name} parameter`)
  }
  return value
}

/** Whether the member uses the January-2026 form and that form is accepted (`signatures.legacy`). */
export function isLegacy(member: SignatureKeyMember, legacyAccepted: boolean): boolean {
  return member.legacy && legacyAccepted
}

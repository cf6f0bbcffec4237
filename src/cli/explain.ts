import type { IncomingHttpHeaders } from 'node:http'
import { parseDictionary, type Dictionary } from 'structured-headers'

/**
 * What `aauth-gateway request` tells a user about a 401 (README "Quick start"): which
 * requirement the route has (AAuth-Requirement, AAuth protocol -11 §6), which Signature-Error
 * the gateway found (Signature-Key draft -09 §5), and what to do next with this command.
 */

const REQUIREMENTS: Readonly<Record<string, string>> = {
  'agent-token':
    'the route wants an identified agent: an agent token from a trusted agent provider.\n' +
    '  next: add --agent-server URL (e.g. http://127.0.0.1:8700 from `aauth-gateway agent-server`).',
  'person-token':
    'the route wants a person behind the agent: a person token (aa-person+jwt) whose cnf key is yours.\n' +
    '  next: add --person-server URL (e.g. http://127.0.0.1:8701 from `aauth-gateway person-server`) to\n' +
    '  get it and the auth token that follows, or send one you have with --token FILE --key FILE.',
  'auth-token':
    'the route wants an auth token (aa-auth+jwt) for its scopes: exchange the resource token below at\n' +
    '  your person server (or the access server) and send the auth token with --token FILE --key FILE;\n' +
    '  --person-server URL does both.',
}

const SIGNATURE_ERRORS: Readonly<Record<string, string>> = {
  invalid_signature: 'the signature does not verify: the request changed after signing, or --authority is not what the gateway expects (resource.authority).',
  invalid_input: 'a component the gateway requires is not covered by the signature (see required_input).',
  invalid_request: 'the signature headers are malformed.',
  invalid_key: 'the key in Signature-Key is not usable (wrong type, curve or alg, or not bound to the token).',
  unknown_key: 'the key named in Signature-Key was not found at its issuer.',
  unsupported_scheme: 'the gateway does not accept this Signature-Key scheme here (see Accept-Signature-Scheme).',
  unsupported_algorithm: 'the gateway does not accept this signature algorithm (see Accept-Signature-Alg).',
  issuer_missing: 'the token names no issuer.',
  issuer_mismatch: 'the token\'s issuer is not trusted, or its metadata names another issuer: add it to trust (agent_providers, and insecure_issuers for http://).',
  invalid_jwt: 'the token is not valid (signature, type, audience or claims).',
  expired_jwt: 'the token has expired: get a fresh one.',
  revoked_jwt: 'the token was revoked.',
  clock_skew: 'the signature\'s created time is outside the gateway\'s window: check this machine\'s clock.',
  replay: 'this exact signed request was already seen: sign it again (a new created time).',
  digest_mismatch: 'the body does not match its Content-Digest.',
}

/** The lines to print on stderr for a 401 answer. */
export function explainChallenge(headers: IncomingHttpHeaders, body: string): string {
  const lines = ['401: the gateway did not let this request through.']
  const requirement = dictionary(headers['aauth-requirement'])
  const signatureError = dictionary(headers['signature-error'])
  const code = stringMember(signatureError, 'error')
  if (code !== undefined) {
    lines.push(`Signature-Error ${code}: ${SIGNATURE_ERRORS[code] ?? 'see the problem detail.'}`)
    const required = signatureError?.get('required_input')
    if (required !== undefined && Array.isArray(required[0])) {
      lines.push(`  required_input: ${required[0].map(([item]) => String(item)).join(' ')}`)
    }
  }
  const needed = stringMember(requirement, 'requirement')
  if (needed !== undefined) {
    lines.push(`AAuth-Requirement ${needed}: ${REQUIREMENTS[needed] ?? 'see the problem detail.'}`)
    if (stringMember(requirement, 'resource-token') !== undefined) lines.push('  (the resource-token is in the AAuth-Requirement header above)')
  }
  for (const name of ['accept-signature-scheme', 'accept-signature-alg']) {
    const value = headers[name]
    if (value !== undefined) lines.push(`  ${name}: ${String(value)}`)
  }
  const detail = problemDetail(body)
  if (detail !== undefined) lines.push(`detail: ${detail}`)
  return lines.join('\n') + '\n'
}

function dictionary(value: string | string[] | undefined): Dictionary | undefined {
  if (value === undefined) return undefined
  try {
    return parseDictionary(Array.isArray(value) ? value.join(', ') : value)
  } catch {
    return undefined
  }
}

function stringMember(dict: Dictionary | undefined, key: string): string | undefined {
  const item = dict?.get(key)?.[0]
  if (item === undefined || Array.isArray(item)) return undefined
  return typeof item === 'object' && 'toString' in item ? item.toString() : String(item)
}

function problemDetail(body: string): string | undefined {
  try {
    const problem = JSON.parse(body) as { detail?: unknown }
    return typeof problem.detail === 'string' ? problem.detail : undefined
  } catch {
    return undefined
  }
}

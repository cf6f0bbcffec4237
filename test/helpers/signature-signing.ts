import type { SignedRequest } from '../../src/signature/types.js'
import type { TestKeyPair } from './signature-keys.js'

/**
 * A tiny RFC 9421 signer for tests, written independently of `src/signature/base.ts` (string
 * concatenation of the §2.5 lines) so tests do not check the base builder against itself.
 */
export interface SignOptions {
  components?: readonly string[]
  created?: number
  label?: string
  /** Extra parameters appended after `created`, e.g. `;expires=1;keyid="k"`. */
  params?: string
  /** The Signature-Key field value; default: an `hwk` member carrying the key. */
  signatureKey?: string
}

export const DEFAULT_COMPONENTS = ['@method', '@authority', '@path', 'signature-key'] as const

export function hwkSignatureKey(pair: TestKeyPair, label = 'sig'): string {
  const jwk = pair.verifyKey.jwk
  const y = jwk.y === undefined ? '' : `;y="${jwk.y}"`
  return `${label}=hwk;alg="${pair.verifyKey.alg}";kty="${jwk.kty}";crv="${jwk.crv}";x="${jwk.x}"${y}`
}

/** Returns `req` with `Signature-Key`, `Signature-Input` and `Signature` added. */
export function signRequest(pair: TestKeyPair, req: SignedRequest, opts: SignOptions = {}): SignedRequest {
  const label = opts.label ?? 'sig'
  const components = opts.components ?? DEFAULT_COMPONENTS
  const headers: Record<string, string | readonly string[] | undefined> = {
    ...req.headers,
    'signature-key': opts.signatureKey ?? hwkSignatureKey(pair, label),
  }
  const params = `(${components.map((c) => `"${c}"`).join(' ')});created=${opts.created ?? nowSeconds()}${opts.params ?? ''}`
  const lines = components.map((c) => `"${c}": ${valueOf(c, req, headers)}`)
  lines.push(`"@signature-params": ${params}`)
  const signature = pair.sign(lines.join('\n')).toString('base64')
  headers['signature-input'] = `${label}=${params}`
  headers['signature'] = `${label}=:${signature}:`
  return { ...req, headers }
}

function valueOf(component: string, req: SignedRequest, headers: SignedRequest['headers']): string {
  if (component === '@method') return req.method
  if (component === '@authority') return req.authority.toLowerCase()
  if (component === '@path') return req.path
  if (component === '@query') return req.query
  const value = headers[component]
  return typeof value === 'string' ? value.trim() : (value ?? []).map((v) => v.trim()).join(', ')
}

export function nowSeconds(): number {
  return Math.floor(Date.now() / 1000)
}

export function baseRequest(overrides: Partial<SignedRequest> = {}): SignedRequest {
  return { method: 'GET', authority: 'api.example.com', path: '/data', query: '?', headers: {}, ...overrides }
}

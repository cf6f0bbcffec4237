import assert from 'node:assert/strict'
import { test } from 'node:test'
import { SignatureError } from '../../src/errors.js'
import { checkCoveredComponents } from '../../src/signature/components.js'
import { checkContentDigest } from '../../src/signature/digest.js'
import { checkFreshness } from '../../src/signature/freshness.js'
import { parseSignatureHeaders } from '../../src/signature/parse.js'
import type { SignatureAlgorithm, SignedRequest } from '../../src/signature/types.js'
import { verifyRequestSignature } from '../../src/signature/verify.js'
import { readVector } from '../helpers/vectors.js'
import { verifyKeyFromJwk } from '../helpers/signature-keys.js'

/**
 * aauth-dev/aauth-go conformance vectors (test/fixtures/vectors/aauth-go; provenance in its NOTICE.md):
 * frozen clock (now = created + at_offset), default window 60 s, `tamper` applied before verify.
 */
interface RequestSpec {
  method: string
  url: string
  headers?: Record<string, string>
  body?: string
}
interface HttpSignatureCase {
  name: string
  signing_key: JsonWebKey & { alg: SignatureAlgorithm }
  request: RequestSpec
  signed: Record<string, string>
  tamper?: Partial<RequestSpec>
  verify?: { at_offset?: number; window_seconds?: number; required_components?: string[]; require_body_coverage?: boolean }
  expect: string
}
interface SignatureKeyCase {
  header: string
  scheme?: string
  params?: Record<string, string>
  error?: string
}

const httpSignature = readVector<{ cases: HttpSignatureCase[] }>('aauth-go/http-signature.json')
const signatureKey = readVector<{ cases: SignatureKeyCase[] }>('aauth-go/signature-key.json')

/** The case's request after `tamper` (an empty string there means "unchanged"). */
function requestOf(c: HttpSignatureCase): { req: SignedRequest; body: Buffer } {
  const method = c.tamper?.method || c.request.method
  const url = new URL(c.tamper?.url || c.request.url)
  const headers: Record<string, string> = {}
  for (const set of [c.request.headers, c.signed, c.tamper?.headers]) {
    for (const [name, value] of Object.entries(set ?? {})) headers[name.toLowerCase()] = value
  }
  const body = Buffer.from(c.tamper?.body || c.request.body || '')
  return { req: { method, authority: url.host, path: url.pathname, query: url.search || '?', headers }, body }
}

/** The AAuth verification steps this folder owns, in spec order; the key is the case's signing key. */
async function outcome(c: HttpSignatureCase): Promise<string> {
  const { req, body } = requestOf(c)
  try {
    const parsed = parseSignatureHeaders(req.headers, { legacy: false })
    assert.ok(parsed)
    const required = [...(c.verify?.required_components ?? [])]
    if (c.verify?.require_body_coverage && body.length > 0) required.push('content-digest', 'content-type')
    checkCoveredComponents(parsed, required)
    checkFreshness(parsed, parsed.created + (c.verify?.at_offset ?? 0), c.verify?.window_seconds ?? 60)
    await verifyRequestSignature(parsed, req, verifyKeyFromJwk(c.signing_key, c.signing_key.alg))
    if (parsed.components.includes('content-digest')) checkContentDigest(req.headers['content-digest'], body)
    return 'valid'
  } catch (e) {
    if (e instanceof SignatureError) return e.code
    throw e
  }
}

for (const c of httpSignature.cases) {
  test(`aauth-go http-signature: ${c.name} -> ${c.expect}`, async () => {
    assert.equal(await outcome(c), c.expect)
  })
}

/**
 * signature-key.json gives the code a jwt-only agent-facing verifier answers. Parsing is
 * ours; the scheme policy (`unsupported_scheme` for hwk, jwks_uri, unknown) and the jwt
 * scheme's own checks (a missing `jwt` parameter) belong to src/keys, so for those cases
 * only the parse-level outcome (scheme and string parameters) is asserted here.
 */
const PARSE_LEVEL_ONLY = new Set(['unsupported_scheme', 'invalid_signature'])
for (const c of signatureKey.cases) {
  test(`aauth-go signature-key: ${c.header} -> ${c.scheme ?? c.error}`, () => {
    const headers = {
      'signature-input': 'sig=("@method" "@authority" "@path" "signature-key");created=1791275958',
      signature: `sig=:${Buffer.alloc(64).toString('base64')}:`,
      'signature-key': c.header,
    }
    if (c.scheme === undefined) {
      assert.throws(() => parseSignatureHeaders(headers, { legacy: false }), (e) => e instanceof SignatureError && e.code === c.error)
      return
    }
    if (c.error !== undefined) assert.ok(PARSE_LEVEL_ONLY.has(c.error), c.error)
    const key = parseSignatureHeaders(headers, { legacy: false })?.key
    assert.equal(key?.scheme, c.scheme)
    const strings = [...(key?.params ?? [])].filter(([, v]) => typeof v === 'string')
    assert.deepEqual(Object.fromEntries(strings), c.params ?? {})
  })
}

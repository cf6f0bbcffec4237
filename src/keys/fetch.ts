import http, { type IncomingMessage } from 'node:http'
import https from 'node:https'
import { isIP } from 'node:net'
import type { ResourceConfigView } from '../config/view.js'
import { AddressRefused, guardedLookup, isPublicAddress } from './egress.js'
import type { FetchPolicy } from './types.js'

/**
 * The guarded GET for discovery documents and JWKS (Signature-Key §7.2-7.3, "egress admission"):
 * trusted origins only; https, or plain http for origins listed exactly in
 * `trust.insecure_issuers`; no special-purpose addresses (unless so listed); redirects only
 * within the same origin (at most 3); a deadline over the whole exchange (`limits.fetch_timeout`);
 * at most `limits.fetch_max_bytes` read; a JSON object or nothing.
 */

export type FetchFailure =
  | 'untrusted' | 'scheme' | 'address' | 'redirect' | 'timeout' | 'too_large' | 'status' | 'json' | 'network'

/** Why a discovery fetch failed. Internal: callers turn it into a `SignatureError`. */
export class FetchError extends Error {
  override readonly name = 'FetchError'
  /** `cause` is the network error underneath, for the operator's log (`internal`). */
  constructor(readonly failure: FetchFailure, detail: string, options?: { cause?: unknown }) {
    super(detail, options)
  }
}

export interface FetchRequest {
  /** Whether the caller admitted this URL's origin (a trusted issuer). Untrusted is never fetched. */
  trusted: boolean
  policy: FetchPolicy
  /** Validator from an earlier response: sends `If-None-Match`, and a 304 comes back as such. */
  etag?: string | undefined
  /** Return the body as bytes (`bytes`) instead of a JSON object: the `x509` PEM chain. */
  raw?: boolean
}

export interface FetchResponse {
  status: 200 | 304
  /** The JSON object (200 only). */
  body: Readonly<Record<string, unknown>> | undefined
  /** The body as received (200 with `raw` only). */
  bytes?: Buffer
  /** The response headers caching reads. */
  headers: { cacheControl?: string; expires?: string; date?: string; etag?: string }
}

/** The fetch the caches use; injectable, so tests reach real servers on loopback (docs/architecture.md "Caches"). */
export type DocumentFetcher = (url: string, request: FetchRequest) => Promise<FetchResponse>

const MAX_REDIRECTS = 3
const memo = new WeakMap<ResourceConfigView, FetchPolicy>()

/** The fetch limits of a config snapshot (built once per snapshot). */
export function fetchPolicyFor(config: ResourceConfigView): FetchPolicy {
  let policy = memo.get(config)
  if (policy === undefined) {
    policy = Object.freeze({
      timeoutMs: config.limits.fetch_timeout * 1000,
      maxBytes: config.limits.fetch_max_bytes,
      insecureOrigins: new Set(config.trust.insecure_issuers),
    })
    memo.set(config, policy)
  }
  return policy
}

/** GETs a JSON document under the guard. Throws `FetchError`. */
export const guardedFetch: DocumentFetcher = async (url, request) => {
  if (!request.trusted) throw new FetchError('untrusted', 'the origin is not trusted')
  const deadline = AbortSignal.timeout(request.policy.timeoutMs)
  let target = admittedUrl(url, request.policy)
  for (let hop = 0; ; hop++) {
    const outcome = await getOnce(target, request, deadline)
    if (!('location' in outcome)) return outcome
    const next = new URL(outcome.location, target)
    if (next.origin !== target.origin) throw new FetchError('redirect', 'redirect to another origin refused')
    if (hop >= MAX_REDIRECTS) throw new FetchError('redirect', 'too many redirects')
    target = next
  }
}

function admittedUrl(url: string, policy: FetchPolicy): URL {
  let parsed: URL
  try {
    parsed = new URL(url)
  } catch {
    throw new FetchError('scheme', 'not a URL')
  }
  const secure = parsed.protocol === 'https:'
  if (!secure && !(parsed.protocol === 'http:' && policy.insecureOrigins.has(parsed.origin))) {
    throw new FetchError('scheme', 'only https (or an insecure_issuers origin) is fetched')
  }
  if (parsed.username !== '' || parsed.password !== '') throw new FetchError('scheme', 'userinfo refused')
  return parsed
}

function getOnce(url: URL, request: FetchRequest, signal: AbortSignal): Promise<FetchResponse | { location: string }> {
  const allowPrivate = request.policy.insecureOrigins.has(url.origin)
  const host = url.hostname.replace(/^\[|\]$/g, '')
  if (!allowPrivate && isIP(host) !== 0 && !isPublicAddress(host)) {
    return Promise.reject(new FetchError('address', 'refused address'))
  }
  const accept = request.raw === true ? 'application/pem-certificate-chain' : 'application/json'
  const headers: Record<string, string> = { accept, 'user-agent': 'aauth-gateway' }
  if (request.etag !== undefined) headers['if-none-match'] = request.etag
  const client = url.protocol === 'https:' ? https : http
  return new Promise((resolve, reject) => {
    const fail = (err: unknown) => reject(asFetchError(err, signal))
    const req = client.request(url, { method: 'GET', headers, signal, agent: false, lookup: guardedLookup(allowPrivate) }, (res) => {
      readResponse(res, request, signal).then(resolve, fail)
    })
    req.on('error', fail)
    req.end()
  })
}

async function readResponse(res: IncomingMessage, request: FetchRequest, signal: AbortSignal): Promise<FetchResponse | { location: string }> {
  const status = res.statusCode ?? 0
  const location = res.headers.location
  if (status >= 300 && status < 400 && status !== 304 && location !== undefined) {
    res.destroy()
    return { location }
  }
  const headers = {
    cacheControl: res.headers['cache-control'],
    expires: res.headers.expires,
    date: res.headers.date,
    etag: res.headers.etag,
  }
  if (status === 304 && request.etag !== undefined) {
    res.destroy()
    return { status: 304, body: undefined, headers }
  }
  if (status !== 200) {
    res.destroy()
    throw new FetchError('status', `HTTP ${status}`)
  }
  const body = await readCapped(res, request.policy.maxBytes, signal)
  if (request.raw === true) return { status: 200, body: undefined, bytes: body, headers }
  return { status: 200, body: parseObject(body), headers }
}

/** Reads the body, stopping (and closing the connection) as soon as it passes `maxBytes`. */
function readCapped(res: IncomingMessage, maxBytes: number, signal: AbortSignal): Promise<Buffer> {
  const declared = Number(res.headers['content-length'])
  if (Number.isFinite(declared) && declared > maxBytes) {
    res.destroy()
    return Promise.reject(new FetchError('too_large', `document over ${maxBytes} bytes`))
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    let size = 0
    res.on('data', (chunk: Buffer) => {
      size += chunk.length
      if (size > maxBytes) {
        res.destroy()
        reject(new FetchError('too_large', `document over ${maxBytes} bytes`))
      } else {
        chunks.push(chunk)
      }
    })
    res.on('end', () => resolve(Buffer.concat(chunks)))
    res.on('error', (err) => reject(asFetchError(err, signal)))
    res.on('close', () => reject(asFetchError(new Error('connection closed'), signal)))
  })
}

function parseObject(body: Buffer): Readonly<Record<string, unknown>> {
  let value: unknown
  try {
    value = JSON.parse(body.toString('utf8'))
  } catch {
    throw new FetchError('json', 'the document is not JSON')
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new FetchError('json', 'the document is not a JSON object')
  }
  return value as Record<string, unknown>
}

function asFetchError(err: unknown, signal: AbortSignal): FetchError {
  if (err instanceof FetchError) return err
  if (signal.aborted) return new FetchError('timeout', 'the fetch timed out')
  if (err instanceof AddressRefused) return new FetchError('address', 'refused address', { cause: err })
  return new FetchError('network', 'the server could not be reached', { cause: err })
}

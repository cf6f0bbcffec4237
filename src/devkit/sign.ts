import { createHash, sign as cryptoSign, type KeyObject } from 'node:crypto'

/**
 * The agent side: signs a request the way AAuth agents do (RFC 9421 with `Signature-Key`).
 * The demo and the benchmark use it; tests also sign with an independent library so the
 * gateway is never only checked against its own signer.
 */
export interface SigningKey {
  alg: 'Ed25519' | 'ES256'
  privateKey: KeyObject
}

export interface RequestToSign {
  method: string
  /** The authority the agent addresses (host[:port]), i.e. the gateway's `resource.authority`. */
  authority: string
  /** Path and query, e.g. `/data?x=1`. */
  target: string
  headers?: Record<string, string>
  body?: string | Buffer
}

export interface SignOptions {
  /** The `Signature-Key` member value after `label=`, e.g. `jwt;jwt="eyJ..."`. */
  signatureKey: string
  label?: string
  /** Covered components; default the AAuth four, plus `content-digest` when there is a body. */
  components?: readonly string[]
  /** Seconds since the epoch; default now. */
  created?: number
  expires?: number
}

/** Returns the headers to add: `Signature-Input`, `Signature`, `Signature-Key` (and `Content-Digest`). */
export function signRequest(req: RequestToSign, key: SigningKey, opts: SignOptions): Record<string, string> {
  const label = opts.label ?? 'sig'
  const headers: Record<string, string> = {}
  for (const [k, v] of Object.entries(req.headers ?? {})) headers[k.toLowerCase()] = v
  const body = req.body === undefined ? undefined : Buffer.from(req.body)
  if (body !== undefined && headers['content-digest'] === undefined) {
    headers['content-digest'] = `sha-256=:${createHash('sha256').update(body).digest('base64')}:`
  }
  headers['signature-key'] = `${label}=${opts.signatureKey}`
  const components =
    opts.components ?? ['@method', '@authority', '@path', 'signature-key', ...(body ? ['content-digest'] : [])]
  let params = `(${components.map((c) => `"${c}"`).join(' ')});created=${opts.created ?? Math.floor(Date.now() / 1000)}`
  if (opts.expires !== undefined) params += `;expires=${opts.expires}`
  const q = req.target.indexOf('?')
  const path = q === -1 ? req.target : req.target.slice(0, q)
  const lines = components.map((c) => `"${c}": ${componentValue(c, req, path, q === -1 ? '?' : req.target.slice(q), headers)}`)
  lines.push(`"@signature-params": ${params}`)
  const base = Buffer.from(lines.join('\n'))
  const signature =
    key.alg === 'Ed25519'
      ? cryptoSign(null, base, key.privateKey)
      : cryptoSign('sha256', base, { key: key.privateKey, dsaEncoding: 'ieee-p1363' })
  const out: Record<string, string> = {
    'signature-input': `${label}=${params}`,
    signature: `${label}=:${signature.toString('base64')}:`,
    'signature-key': headers['signature-key'],
  }
  if (headers['content-digest'] !== undefined && req.headers?.['content-digest'] === undefined && body !== undefined) {
    out['content-digest'] = headers['content-digest']
  }
  return out
}

function componentValue(
  c: string,
  req: RequestToSign,
  path: string,
  query: string,
  headers: Record<string, string>,
): string {
  switch (c) {
    case '@method':
      return req.method.toUpperCase()
    case '@authority':
      return req.authority.toLowerCase()
    case '@path':
      return path === '' ? '/' : path
    case '@query':
      return query
    default: {
      const v = headers[c]
      if (v === undefined) throw new Error(`cannot sign: header ${c} is not set`)
      return v.trim()
    }
  }
}

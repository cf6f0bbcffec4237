import { signRequest } from '../devkit/sign.js'
import { hwkMember, jwtMember, newKey, type DevKey } from '../devkit/keys.js'

/** One HTTP exchange as the delegate saw it, for printing and checking. */
export interface Exchange {
  method: string
  url: string
  /** The headers the delegate set (signature headers, content type). */
  sent: Record<string, string>
  body: string | undefined
  status: number
  headers: Headers
  text: string
}

export interface CallOptions {
  method?: string
  /** The token to present (`Signature-Key: jwt`); without one the delegate signs with its bare key (`hwk`). */
  token?: string
  /** A JSON body, sent with `content-type` and a covered `content-digest`. */
  json?: unknown
  /** Send to this path instead of the signed one: a request tampered with in transit. */
  tamperedPath?: string
}

/**
 * An agent delegate: one running instance of the agent, with its own Ed25519 key. It asks the
 * agent server for an agent token binding that key to its delegate id, then signs every call
 * with `signRequest` (RFC 9421 + `Signature-Key`), presenting whichever token it holds.
 */
export class Delegate {
  readonly key: DevKey
  agentToken: string | undefined

  constructor(readonly id: string) {
    this.key = newKey('Ed25519', `${id}-key`)
  }

  /** `POST {agentServer}/delegate/token` with `{"sub", "cnf_jwk"}`; keeps the token it gets. */
  async obtainAgentToken(agentServer: string): Promise<Exchange> {
    const url = `${agentServer}/delegate/token`
    const body = JSON.stringify({ sub: this.id, cnf_jwk: this.key.publicJwk })
    const ex = await send('POST', url, { 'content-type': 'application/json' }, body)
    if (ex.status === 200) {
      const token = (JSON.parse(ex.text) as { agent_token?: unknown }).agent_token
      if (typeof token === 'string') this.agentToken = token
    }
    return ex
  }

  /** A signed request to `url`. */
  async call(url: string, options: CallOptions = {}): Promise<Exchange> {
    const method = options.method ?? (options.json === undefined ? 'GET' : 'POST')
    const target = new URL(url)
    const body = options.json === undefined ? undefined : JSON.stringify(options.json)
    const headers: Record<string, string> = body === undefined ? {} : { 'content-type': 'application/json' }
    const signatureKey = options.token === undefined ? hwkMember(this.key.publicJwk) : jwtMember(options.token)
    const components = ['@method', '@authority', '@path', 'signature-key']
    if (body !== undefined) components.push('content-type', 'content-digest')
    const signed = signRequest({ method, authority: target.host, target: target.pathname + target.search, headers, body }, this.key, {
      signatureKey,
      components,
    })
    if (options.tamperedPath !== undefined) target.pathname = options.tamperedPath
    return send(method, target.href, { ...headers, ...signed }, body)
  }
}

async function send(method: string, url: string, sent: Record<string, string>, body: string | undefined): Promise<Exchange> {
  const res = await fetch(url, { method, headers: sent, body })
  return { method, url, sent, body, status: res.status, headers: res.headers, text: await res.text() }
}

import { readFileSync } from 'node:fs'
import { request as httpRequest, type IncomingMessage } from 'node:http'
import { request as httpsRequest } from 'node:https'
import { calculateJwkThumbprint, decodeJwt, type JWK } from 'jose'
import { jwtMember, keyFromJwk, newKey, type DevKey } from '../devkit/keys.js'
import { signRequest } from '../devkit/sign.js'
import { UsageError } from './command.js'
import { explainChallenge } from './explain.js'
import { postForToken, RequestFailed } from './request-failed.js'
import { stepUp, type Answer } from './step-up.js'

export interface RequestOptions {
  request?: string
  key?: string
  hwk: boolean
  'agent-server'?: string
  delegate: string
  'person-server'?: string
  token?: string
  header?: string[]
  data?: string
  authority?: string
}

/**
 * `aauth-gateway request [-X METHOD] URL` (README "Quick start"): curl for AAuth. Signs the
 * request (RFC 9421 with `Signature-Key`) with `--key` or a fresh Ed25519 key, presented inline
 * (`hwk`, the default), through an agent token fetched from `--agent-server`, or through the
 * token in `--token FILE`. With `--person-server`, a 401 asking for a person or auth token is
 * answered by getting it there and sending again (src/cli/step-up.ts). Prints the final answer
 * like `curl -i`; on a 401 explains the challenge on stderr. Exit 0 for 2xx, 1 for another
 * status, 2 for usage or network errors.
 */
export async function request(values: RequestOptions, url: string): Promise<number> {
  const target = parseUrl(url)
  if (values['agent-server'] !== undefined && values.token !== undefined) throw new UsageError('--agent-server and --token are exclusive')
  if (values.hwk && (values['agent-server'] !== undefined || values.token !== undefined)) {
    throw new UsageError('--hwk signs with the bare key; leave it out with --agent-server or --token')
  }
  const personServer = values['person-server']
  if (personServer !== undefined && values['agent-server'] === undefined) {
    throw new UsageError('--person-server needs --agent-server: the person server takes calls signed with an agent token')
  }
  if (personServer !== undefined && !/^https?:\/\/[^/\s]+\/?$/.test(personServer)) {
    throw new UsageError(`--person-server '${personServer}' is not an origin (e.g. http://127.0.0.1:8701)`)
  }
  try {
    const key = values.key === undefined ? newKey('Ed25519') : readKey(values.key)
    const agent = values['agent-server'] === undefined ? undefined : await agentToken(values['agent-server'], values.delegate, key)
    const signatureKey = agent === undefined ? await signatureKeyFor(values, key) : jwtMember(agent)
    const headers = parseHeaders(values.header ?? [])
    const body = values.data === undefined ? undefined : readData(values.data)
    if (body !== undefined && !hasHeader(headers, 'content-type') && isJson(body)) headers['content-type'] = 'application/json'
    const method = (values.request ?? (body === undefined ? 'GET' : 'POST')).toUpperCase()
    const path = target.pathname + target.search
    const components = ['@method', '@authority', '@path', ...(target.search ? ['@query'] : []), 'signature-key']
    if (body !== undefined) components.push(...(hasHeader(headers, 'content-type') ? ['content-type'] : []), 'content-digest')
    const attempt = (presented: string): Promise<Answer> => {
      const signed = signRequest({ method, authority: values.authority ?? target.host, target: path, headers, body }, key, {
        signatureKey: presented,
        components,
      })
      return send(target, method, { ...headers, ...signed }, body)
    }
    let res = await attempt(signatureKey)
    if (personServer !== undefined && agent !== undefined) {
      res = await stepUp(res, {
        personServer,
        agentToken: agent,
        key,
        resource: target.origin,
        retry: (token) => attempt(jwtMember(token)),
        say: (line) => process.stderr.write(line + '\n'),
      })
    }
    process.stdout.write(curlHead(res.message) + res.body.toString('utf8'))
    if (res.message.statusCode === 401) process.stderr.write(explainChallenge(res.message.headers, res.body.toString('utf8')))
    const status = res.message.statusCode ?? 0
    return status >= 200 && status < 300 ? 0 : 1
  } catch (err) {
    if (!(err instanceof RequestFailed)) throw err
    process.stderr.write(`request: ${err.message}\n`)
    return 2
  }
}

function parseUrl(url: string): URL {
  let target: URL
  try {
    target = new URL(url)
  } catch {
    throw new UsageError(`'${url}' is not a URL (e.g. http://localhost:8080/data/1)`)
  }
  if (target.protocol !== 'http:' && target.protocol !== 'https:') throw new UsageError(`'${url}' is not an http:// or https:// URL`)
  return target
}

function readKey(file: string): DevKey {
  try {
    return keyFromJwk(JSON.parse(readFileSync(file, 'utf8')) as JWK)
  } catch (err) {
    throw new RequestFailed(`--key ${file}: ${(err as Error).message} (write one with aauth-gateway keygen --out ${file})`)
  }
}

/** The `Signature-Key` member value without an agent server: `hwk`, or `jwt` with the `--token` file. */
async function signatureKeyFor(values: RequestOptions, key: DevKey): Promise<string> {
  if (values.token === undefined) return key.hwk
  let token: string
  try {
    token = readFileSync(values.token, 'utf8').trim()
  } catch (err) {
    throw new RequestFailed(`--token ${values.token}: ${(err as Error).message}`)
  }
  await checkBound(token, key, values.key)
  return jwtMember(token)
}

/** A token signs with its `cnf` key only (AAuth -11): say so before the gateway does. */
async function checkBound(token: string, key: DevKey, keyFile: string | undefined): Promise<void> {
  let cnf: unknown
  try {
    cnf = (decodeJwt(token).cnf as { jwk?: unknown } | undefined)?.jwk
  } catch {
    throw new RequestFailed('--token: the file does not hold a JWT')
  }
  if (typeof cnf !== 'object' || cnf === null) throw new RequestFailed('--token: the token has no cnf.jwk to sign with')
  const bound = await calculateJwkThumbprint(cnf as JWK)
  if (bound !== (await calculateJwkThumbprint(key.publicJwk))) {
    throw new RequestFailed(
      keyFile === undefined ? '--token needs --key FILE: the private key whose public half is the token\'s cnf.jwk' : `--key ${keyFile} is not the token's cnf key`,
    )
  }
}

/** `POST {agentServer}/delegate/token` with `{"sub", "cnf_jwk"}` (the delegation flow of AAuth -11 §5.1). */
function agentToken(agentServer: string, sub: string, key: DevKey): Promise<string> {
  const url = `${agentServer.replace(/\/+$/, '')}/delegate/token`
  const init = { headers: { 'content-type': 'application/json' }, body: JSON.stringify({ sub, cnf_jwk: key.publicJwk }) }
  return postForToken(url, init, 'agent_token', { what: 'agent token', hint: '; is `aauth-gateway agent-server` running?' })
}

/** `-H "Name: value"` lines, names lower-cased (the signer's view), in order. */
function parseHeaders(lines: readonly string[]): Record<string, string> {
  const headers: Record<string, string> = {}
  for (const line of lines) {
    const colon = line.indexOf(':')
    const name = line.slice(0, colon).trim().toLowerCase()
    if (colon <= 0 || !/^[!#$%&'*+.^_`|~0-9a-z-]+$/.test(name)) throw new UsageError(`-H '${line}' is not "Name: value"`)
    headers[name] = line.slice(colon + 1).trim()
  }
  return headers
}

function hasHeader(headers: Record<string, string>, name: string): boolean {
  return headers[name] !== undefined
}

/** `-d DATA` as given, or `-d @file`: the file's bytes. */
function readData(data: string): Buffer {
  if (!data.startsWith('@')) return Buffer.from(data, 'utf8')
  try {
    return readFileSync(data.slice(1))
  } catch (err) {
    throw new RequestFailed(`-d ${data}: ${(err as Error).message}`)
  }
}

function isJson(body: Buffer): boolean {
  try {
    JSON.parse(body.toString('utf8'))
    return true
  } catch {
    return false
  }
}

/** Sends with node:http(s), so `Host` is the URL's and the answer's header lines keep their case. */
function send(target: URL, method: string, headers: Record<string, string>, body: Buffer | undefined): Promise<{ message: IncomingMessage; body: Buffer }> {
  const make = target.protocol === 'https:' ? httpsRequest : httpRequest
  return new Promise((resolve, reject) => {
    const req = make(target, { method, headers: body === undefined ? headers : { ...headers, 'content-length': String(body.length) } }, (message) => {
      const chunks: Buffer[] = []
      message.on('data', (c: Buffer) => chunks.push(c))
      message.on('end', () => resolve({ message, body: Buffer.concat(chunks) }))
      message.on('error', (err) => reject(new RequestFailed(`${target.origin}: ${err.message}`)))
    })
    req.on('error', (err: NodeJS.ErrnoException) => reject(new RequestFailed(`${target.origin} did not answer (${err.code ?? err.message})`)))
    req.end(body)
  })
}

/** The status line and header lines as `curl -i` prints them, then the blank line. */
function curlHead(res: IncomingMessage): string {
  const lines = [`HTTP/${res.httpVersion} ${res.statusCode ?? 0} ${res.statusMessage ?? ''}`.trimEnd()]
  for (let i = 0; i + 1 < res.rawHeaders.length; i += 2) lines.push(`${res.rawHeaders[i]}: ${res.rawHeaders[i + 1]}`)
  return lines.join('\n') + '\n\n'
}

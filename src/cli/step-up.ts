import type { IncomingMessage } from 'node:http'
import { decodeJwt } from 'jose'
import { parseDictionary } from 'structured-headers'
import { jwtMember, type DevKey } from '../devkit/keys.js'
import { signRequest } from '../devkit/sign.js'
import { causeOf, jsonObject, postForToken, RequestFailed } from './request-failed.js'

/** An HTTP answer as `request` prints it. */
export interface Answer {
  message: IncomingMessage
  body: Buffer
}

export interface StepUpContext {
  /** The person server's origin (`--person-server`). */
  personServer: string
  /** The agent token the person server's endpoints are called with (AAuth -11 §7). */
  agentToken: string
  /** The agent's key: the cnf key of every token. */
  key: DevKey
  /** The resource's origin, where its metadata is published. */
  resource: string
  /** Sends the request again, presenting `token`. */
  retry(token: string): Promise<Answer>
  /** Prints one line about a step (stderr). */
  say(line: string): void
}

/**
 * `request --person-server` (README "Quick start"): climbs the AAuth ladder (AAuth -11 §6) as the
 * developer kit's demo does. `401 requirement=person-token`: a person token for the resource from
 * the person server. `401 requirement=auth-token` with a resource token: that exchanged at the
 * person server, with the token just presented, for an auth token. After each, the request is
 * sent again with the new token. Three rounds at most (person token, auth token, one wider auth
 * token for a step-up), so a gateway that keeps asking cannot loop it.
 */
export async function stepUp(first: Answer, ctx: StepUpContext): Promise<Answer> {
  let answer = first
  let presented = ctx.agentToken
  let meta: PersonServerMetadata | undefined
  for (let round = 0; round < 3 && answer.message.statusCode === 401; round++) {
    const asked = requirementOf(answer.message.headers['aauth-requirement'])
    let token: string
    if (asked?.requirement === 'person-token') {
      meta ??= await metadataOf(ctx.personServer)
      const resource = await resourceIssuer(ctx.resource)
      token = await tokenFrom(meta.person_token_endpoint, { resource }, 'person_token', ctx)
      ctx.say(`step-up: 401 requirement=person-token -> POST ${meta.person_token_endpoint} {"resource": "${resource}"} -> person token; sending again with it`)
    } else if (asked?.requirement === 'auth-token' && asked.resourceToken !== undefined) {
      meta ??= await metadataOf(ctx.personServer)
      token = await tokenFrom(meta.auth_token_endpoint, { resource_token: asked.resourceToken, presented_token: presented }, 'auth_token', ctx)
      ctx.say(`step-up: 401 requirement=auth-token, resource token for scope '${scopeOf(asked.resourceToken)}' -> POST ${meta.auth_token_endpoint} -> auth token; sending again with it`)
    } else {
      return answer
    }
    presented = token
    answer = await ctx.retry(token)
  }
  return answer
}

/** `AAuth-Requirement` (an RFC 8941 Dictionary): the requirement and its `resource-token` parameter. */
function requirementOf(header: string | string[] | undefined): { requirement: string; resourceToken: string | undefined } | undefined {
  if (typeof header !== 'string') return undefined
  try {
    const member = parseDictionary(header).get('requirement')
    if (member === undefined) return undefined
    const rt = member[1].get('resource-token')
    return { requirement: String(member[0]), resourceToken: typeof rt === 'string' ? rt : undefined }
  } catch {
    return undefined
  }
}

/** The `scope` a resource token asks for, for the step line (the person server verifies the token). */
function scopeOf(resourceToken: string): string {
  try {
    const { scope } = decodeJwt(resourceToken)
    return typeof scope === 'string' ? scope : ''
  } catch {
    return ''
  }
}

interface PersonServerMetadata {
  person_token_endpoint: string
  auth_token_endpoint: string
}

/** `{ps}/.well-known/aauth-person.json`: where its token endpoints are. */
async function metadataOf(personServer: string): Promise<PersonServerMetadata> {
  const origin = personServer.replace(/\/+$/, '')
  const doc = await getJson(`${origin}/.well-known/aauth-person.json`, 'is `aauth-gateway person-server` running?')
  const { person_token_endpoint: person, auth_token_endpoint: auth } = doc
  if (typeof person !== 'string' || typeof auth !== 'string') {
    throw new RequestFailed(`${origin}/.well-known/aauth-person.json names no person_token_endpoint and auth_token_endpoint`)
  }
  return { person_token_endpoint: person, auth_token_endpoint: auth }
}

/** The resource's identifier, from `{origin}/.well-known/aauth-resource.json` (what a person token's `aud` must be). */
async function resourceIssuer(origin: string): Promise<string> {
  const { issuer } = await getJson(`${origin}/.well-known/aauth-resource.json`, 'is it an AAuth gateway?')
  if (typeof issuer !== 'string') throw new RequestFailed(`${origin}/.well-known/aauth-resource.json names no issuer`)
  return issuer
}

/** A signed POST (agent token, covered JSON body) to a person server endpoint; returns `member` of the answer. */
async function tokenFrom(endpoint: string, json: Record<string, string>, member: string, ctx: StepUpContext): Promise<string> {
  const url = new URL(endpoint)
  const body = JSON.stringify(json)
  const headers = { 'content-type': 'application/json' }
  const signed = signRequest({ method: 'POST', authority: url.host, target: url.pathname + url.search, headers, body }, ctx.key, {
    signatureKey: jwtMember(ctx.agentToken),
    components: ['@method', '@authority', '@path', 'signature-key', 'content-type', 'content-digest'],
  })
  return postForToken(endpoint, { headers: { ...headers, ...signed }, body }, member)
}

async function getJson(url: string, hint: string): Promise<Record<string, unknown>> {
  let res: Response
  try {
    res = await fetch(url, { headers: { accept: 'application/json' } })
  } catch (err) {
    throw new RequestFailed(`${url} did not answer (${causeOf(err)}); ${hint}`)
  }
  const text = await res.text()
  if (!res.ok) throw new RequestFailed(`${url} answered ${res.status}; ${hint}`)
  return jsonObject(text)
}

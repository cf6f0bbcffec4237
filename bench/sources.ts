import { newKey } from '../src/devkit/keys.js'
import { signRequest, type SigningKey } from '../src/devkit/sign.js'
import type { BenchRequest, RequestSource } from './load.js'

/** How an agent signs: its key and the `Signature-Key` member value (after `label=`). */
export interface Credential {
  key: SigningKey
  signatureKey: string
}

/** A fresh Ed25519 key presented inline (`hwk`, Signature-Key -08 §3.1): a pseudonymous agent. */
export function hwkCredential(): Credential {
  const key = newKey('Ed25519')
  return { key, signatureKey: key.hwk }
}

/** The same unsigned request, over and over. */
export function fixedRequest(path: string): RequestSource {
  const request: BenchRequest = { method: 'GET', path, headers: {} }
  return { next: () => request, remaining: () => Infinity }
}

/**
 * `count` requests signed now, each for its own path (`{prefix}/{i}`), so the replay store never
 * sees the same (key, created, method, authority, path) twice. Each is handed out once.
 */
export function presigned(cred: Credential, authority: string, prefix: string, count: number): RequestSource {
  const requests: BenchRequest[] = []
  for (let i = 0; i < count; i++) {
    const path = `${prefix}/${i}`
    const headers = signRequest({ method: 'GET', authority, target: path }, cred.key, { signatureKey: cred.signatureKey })
    requests.push({ method: 'GET', path, headers })
  }
  let used = 0
  return {
    next: () => requests[used++],
    remaining: () => requests.length - used,
  }
}

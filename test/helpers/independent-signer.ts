import { fetch as signedFetch, type SignatureKeyType } from '@hellocoop/httpsig'
import type { JsonWebKey as NodeJwk } from 'node:crypto'
import { AUTHORITY } from './gateway.js'


/**
 * Headers signed by `@hellocoop/httpsig` (Signature-Key draft -08), an implementation the
 * project did not write, for a request addressed to `https://api.test{target}`.
 */
export async function independentlySigned(
  privateJwk: NodeJwk & { alg: string },
  signatureKey: SignatureKeyType,
  target: string,
  init: { method?: string; headers?: Record<string, string>; body?: string } = {},
): Promise<Record<string, string>> {
  const result = await signedFetch(`https://${AUTHORITY}${target}`, {
    method: init.method ?? 'GET',
    headers: init.headers,
    body: init.body,
    signingKey: privateJwk,
    signatureKey,
    dryRun: true,
  })
  return Object.fromEntries(result.headers)
}

import assert from 'node:assert/strict'
import { test } from 'node:test'
import { SignatureError } from '../../src/errors.js'
import { createKeyServices } from '../../src/keys/services.js'
import { verifyToken } from '../../src/tokens/index.js'
import { resolveContext, resourceConfig } from '../helpers/resolve-context.js'
import { StaticKeySource } from '../helpers/static-key-source.js'
import { readVector } from '../helpers/vectors.js'

/**
 * aauth-go `jwt.json`: tokens minted with published test keys, for issuers that do not exist, so
 * keys come from a static key source and the clock is each token's own `iat` ("now" injected).
 */
interface JwtCase {
  name: string
  typ: string
  signing_key: Record<string, unknown>
  token: string
  claims?: { iat?: number; exp?: number }
  reject?: string
}

const ISSUERS = ['https://agent.example', 'https://ps.example', 'https://as.example']
/** Tokens that are valid but never belong in Signature-Key. */
const NOT_ACCEPTED_HERE = new Set(['aa-resource+jwt'])

function context(c: JwtCase) {
  const { d: _private, ...publicKey } = c.signing_key
  const keySource = new StaticKeySource(Object.fromEntries(ISSUERS.map((i) => [i, [publicKey]])))
  const services = { ...createKeyServices(), keySource }
  const config = resourceConfig({
    issuer: 'https://resource.example',
    trust: { agent_providers: ['https://agent.example'], person_servers: ['https://ps.example'], access_servers: ['https://as.example'] },
    signatures: { legacy: false },
  })
  const at = (c.claims?.iat ?? 1767225600) + 1
  return resolveContext(config, { services, now: () => at })
}

test('aauth-go jwt vectors: valid tokens verify, reject cases are refused', async () => {
  const file = readVector<{ cases: JwtCase[] }>('aauth-go/jwt.json')
  for (const c of file.cases) {
    if (c.reject === undefined && !NOT_ACCEPTED_HERE.has(c.typ)) {
      const { identity, key } = await verifyToken(c.token, context(c))
      assert.equal(identity.tokenType, c.typ, c.name)
      assert.equal(key.thumbprint, c.signing_key.kid, `${c.name}: cnf.jwk is the signing key`)
    } else {
      await assert.rejects(verifyToken(c.token, context(c)), SignatureError, `${c.name} (${c.reject ?? c.typ})`)
    }
  }
})

test('aauth-go jwt vectors expire on time: one second past exp is expired_jwt', async () => {
  const file = readVector<{ cases: JwtCase[] }>('aauth-go/jwt.json')
  const auth = file.cases.find((c) => c.name === 'auth token')
  assert.ok(auth?.claims?.exp !== undefined)
  const ctx = { ...context(auth), now: () => auth.claims!.exp! }
  await assert.rejects(verifyToken(auth.token, ctx), (e: unknown) => e instanceof SignatureError && e.code === 'expired_jwt')
})

import { SignatureError } from '../../src/errors.js'
import type { FoundKey, IssuerKeySource, ServerKeyQuery } from '../../src/keys/types.js'

/**
 * An `IssuerKeySource` over fixed JWKs, for conformance vectors whose issuers
 * (`https://agent.example` ...) do not exist: issuer -> public JWKs. It applies the same trust
 * gate as discovery (the query's `trusted`), so an untrusted issuer still fails.
 */
export class StaticKeySource implements IssuerKeySource {
  readonly lookups: ServerKeyQuery[] = []
  constructor(private readonly keys: Readonly<Record<string, readonly Readonly<Record<string, unknown>>[]>>) {}

  async serverKey(query: ServerKeyQuery): Promise<FoundKey> {
    this.lookups.push(query)
    if (!query.trusted(query.issuer)) throw new SignatureError('invalid_key', 'untrusted')
    return this.find(query.issuer, query.kid)
  }

  async jwksKey(url: string, kid: string): Promise<FoundKey> {
    return this.find(url, kid)
  }

  private find(where: string, kid: string): FoundKey {
    const jwk = this.keys[where]?.find((k) => k.kid === kid)
    if (jwk === undefined) throw new SignatureError('unknown_key', 'no such kid')
    return { jwk, fresh: true }
  }
}

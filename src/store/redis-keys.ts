import { createHash } from 'node:crypto'

/**
 * Where each kind of state lives in Redis, under `store.key_prefix` (docs/state-store.md "Key
 * layout"), so several gateways or resources can share one Redis without meeting.
 */
export class KeyLayout {
  /** The pub/sub channel revocations are announced on. */
  readonly channel: string
  /** Sorted set of every live revocation (member `issuer jti`, score its expiry). */
  readonly revocationIndex: string
  /** Written by every instance's health check. */
  readonly health: string

  constructor(private readonly prefix: string) {
    this.channel = `${prefix}revocations`
    this.revocationIndex = `${prefix}revocations`
    this.health = `${prefix}health`
  }

  /** A signature seen (`replayKey`: thumbprint and signature-base hash). */
  replay(key: string): string {
    return `${this.prefix}replay:${key}`
  }

  /** A revoked token (`revocationKey`: issuer and jti). */
  revoked(key: string): string {
    return `${this.prefix}revoked:${key}`
  }

  /** One issuer's live revocations (a sorted set, for its bound). */
  issuerRevocations(issuer: string): string {
    return `${this.prefix}revocations:${issuer}`
  }

  /** A pending deferred request or its retained result (src/resource/deferred.ts). */
  pending(key: string): string {
    return `${this.prefix}pending:${key}`
  }

  /**
   * A rate-limit counter. The key names an agent, a key thumbprint or an address; it is hashed
   * so that Redis holds no identity in clear and every key has the same short length.
   */
  rate(key: string): string {
    return `${this.prefix}rate:${createHash('sha256').update(key).digest('base64url')}`
  }
}

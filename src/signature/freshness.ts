import { SignatureError } from '../errors.js'
import type { ParsedSignature } from './types.js'

/**
 * AAuth verification step 3: is the signature fresh? (AAuth "Verification (Server)" step 3;
 * Signature-Key -09 `clock_skew`; RFC 9421 §3.2 steps on `created`/`expires`.)
 *
 * `nowSeconds` and `created` are seconds since the epoch; `windowSeconds` is
 * `signatures.window` (default 60). Bounds are inclusive: exactly `window` old is fresh.
 *  - `created` older than the window: `invalid_signature` (the agent re-signs);
 *  - `created` ahead of our clock by more than the window: `clock_skew` (the agent waits or
 *    fixes its clock, using our `Date`, rather than re-signing);
 *  - `expires` before now: `invalid_signature` (RFC 9421 §2.3: an expired signature fails).
 */
export function checkFreshness(
  parsed: Pick<ParsedSignature, 'created' | 'expires'>,
  nowSeconds: number,
  windowSeconds: number,
): void {
  if (parsed.created < nowSeconds - windowSeconds) {
    throw new SignatureError('invalid_signature', `created is more than ${windowSeconds}s old`)
  }
  if (parsed.created > nowSeconds + windowSeconds) {
    throw new SignatureError('clock_skew', `created is more than ${windowSeconds}s ahead of the gateway's clock`)
  }
  if (parsed.expires !== undefined && parsed.expires < nowSeconds) {
    throw new SignatureError('invalid_signature', 'the signature has expired')
  }
}

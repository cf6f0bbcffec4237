import { SignatureError } from '../errors.js'
import { buildSignatureBase } from './base.js'
import { verifySignatureBytes } from './crypto.js'
import type { ParsedSignature, SignedRequest, VerifyKey } from './types.js'

/**
 * AAuth verification step 7 (RFC 9421 §3.2 steps 6-8): rebuild the signature base from the
 * public request and verify the signature bytes with the key the scheme resolved.
 *
 * The steps before it are the caller's, in the spec's order: `parseSignatureHeaders` (1),
 * `checkCoveredComponents` (2), `checkFreshness` (3), key resolution in `src/keys` (4-6).
 * After it, when `content-digest` is covered, `checkContentDigest` (the signature proved the
 * header; that proves the body). Replay is `src/replay`'s. `keyid` is not compared: the key
 * always comes from `Signature-Key` (AAuth profile), and `keyid` has no defined meaning there.
 * Returns the verified signature base, which the replay defence keys on.
 */
export async function verifyRequestSignature(parsed: ParsedSignature, req: SignedRequest, key: VerifyKey): Promise<string> {
  const base = buildSignatureBase(parsed, req)
  if (!(await verifySignatureBytes(key, base, parsed.signature))) {
    throw new SignatureError('invalid_signature', 'the signature does not verify with the Signature-Key key')
  }
  return base
}

/**
 * RFC 9421 HTTP Message Signatures under the AAuth profile, one step per module, in the order
 * AAuth "Verification (Server)" runs them. Key resolution lives in `src/keys`, replay in
 * `src/replay`.
 */
export { parseSignatureHeaders, type ParseOptions } from './parse.js'
export { checkCoveredComponents, isComputableComponent, ALWAYS_REQUIRED_COMPONENTS } from './components.js'
export { checkFreshness } from './freshness.js'
export { buildSignatureBase } from './base.js'
export { verifySignatureBytes } from './crypto.js'
export { verifyRequestSignature } from './verify.js'
export { checkContentDigest } from './digest.js'
export type { ParsedSignature, SignedRequest, SignatureKeyMember, VerifyKey, SignatureAlgorithm } from './types.js'

import type { SchemeTable } from '../types.js'
import { resolveHwk } from './hwk.js'
import { resolveJktJwt } from './jkt-jwt.js'
import { resolveJwks } from './jwks.js'
import { resolveJwksUri } from './jwks_uri.js'
import { resolveJwt } from './jwt.js'
import { resolveSelfJwt } from './self-jwt.js'
import { resolveX509 } from './x509.js'

/**
 * The Signature-Key schemes this gateway implements (Signature-Key -08 §3), one file each.
 * Adding a scheme is adding a file and a line here (and its name to `SchemeName`).
 * Not implemented, hence `unsupported_scheme`: `cached`.
 */
export const SCHEME_RESOLVERS = {
  hwk: resolveHwk,
  'jkt-jwt': resolveJktJwt,
  jwt: resolveJwt,
  jwks_uri: resolveJwksUri,
  jwks: resolveJwks,
  'self-jwt': resolveSelfJwt,
  x509: resolveX509,
} satisfies SchemeTable

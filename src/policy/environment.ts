import { Environment } from '@marcbachmann/cel-js'
import { AAuthValue, RequestValue } from './context.js'

/**
 * The one CEL environment every policy expression is compiled against (README "Policies").
 * Built once at import; it is never registered into afterwards, so sharing it is safe.
 */


// cel-js spells the timestamp type by its protobuf name; `timestamp` is only the function.
const TIMESTAMP = 'google.protobuf.Timestamp'

export const policyEnvironment: Environment = new Environment()
  // Declared message types (not `map`) so a misspelt field such as `aauth.agnet` is a load-time
  // type error rather than a per-request "no such key" that denies everything.
  .registerType('AAuth', {
    ctor: AAuthValue,
    fields: {
      level: 'string',
      scheme: 'string',
      token_type: 'string',
      agent: 'string',
      agent_delegate: 'string',
      user: 'string',
      issuer: 'string',
      scope: 'list<string>',
      delegation: 'list<map<string, dyn>>',
      thumbprint: 'string',
      jwt_claims: 'map<string, dyn>',
    },
  })
  .registerType('Request', {
    ctor: RequestValue,
    fields: {
      method: 'string',
      path: 'string',
      host: 'string',
      query: 'map<string, string>',
      headers: 'map<string, string>',
    },
  })
  .registerVariable('aauth', 'AAuth', { description: 'The verified identity (README "Policies")' })
  .registerVariable('request', 'Request', { description: 'The public request' })
  .registerVariable('now', TIMESTAMP, { description: 'Evaluation time' })
  // Standard CEL (int(google.protobuf.Timestamp) -> seconds since the epoch) that cel-js lacks;
  // it is what lets `aauth.jwt_claims.exp > int(now)` compare a JWT NumericDate with the clock.
  .registerFunction(`int(${TIMESTAMP}): int`, (t: Date) => BigInt(Math.floor(t.getTime() / 1000)))

/**
 * Micro-benchmark of CEL policy cost on the request path: building the context and evaluating
 * a realistic policy, per request. Not a test. Run: `npx tsx bench/policy.ts [seconds]`
 * (or `node dist/bench/policy.js` after `npm run build`).
 */
import type { Identity } from '../src/identity.js'
import type { CompiledPolicy } from '../src/policy/compile.js'
import { buildPolicyContext, policyRequestFrom, type PolicyRequest } from '../src/policy/context.js'
import { evaluatePolicy } from '../src/policy/evaluate.js'
import { compilePolicySources } from '../src/policy/load.js'

const POLICY = `
name: bench
rules:
  - allow: 'aauth.agent == "https://agent.supply-chain.com"'
  - allow: 'aauth.agent in ["https://agent.logistics.example", "https://agent.billing.example"]'
  - deny: 'aauth.agent_delegate.startsWith("revoked-")'
  - deny: 'aauth.agent_delegate in ["delegate-7@agent.supply-chain.com", "laptop-42@agent.logistics.example"]'
  - require: '"data.read" in aauth.scope || request.method == "GET"'
  - require: 'size(aauth.delegation) <= 2'
  - require: 'aauth.jwt_claims.exp > int(now)'
`

const identity: Identity = {
  level: 'authorized',
  scheme: 'jwt',
  tokenType: 'aa-auth+jwt',
  agent: 'https://agent.supply-chain.com',
  agentDelegate: 'delegate-1@agent.supply-chain.com',
  user: 'user-123',
  issuer: 'https://ps.example',
  scope: ['data.read', 'data.write'],
  delegation: [{ sub: 'delegate-1@agent.supply-chain.com', agent: 'https://agent.supply-chain.com' }],
  thumbprint: 'NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs',
  claims: {
    iss: 'https://ps.example',
    sub: 'user-123',
    aud: 'https://api.example.com',
    exp: 4102444800,
    iat: 1767225600,
    scope: 'data.read data.write',
    agent: 'https://agent.supply-chain.com',
    agent_delegate: 'delegate-1@agent.supply-chain.com',
    act: { sub: 'delegate-1@agent.supply-chain.com' },
    cnf: { jwk: { kty: 'OKP', crv: 'Ed25519', x: 'NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs' } },
  },
}

const headers = { host: 'api.example.com', 'content-type': 'application/json', 'signature-key': 'sig=jwt;jwt="..."' }

/** Best and median of `rounds` timed rounds: the machine may be shared, so one figure lies. */
function measure(label: string, seconds: number, once: () => unknown, rounds = 5): void {
  for (let i = 0; i < 20_000; i++) once() // warm up the JIT
  const perEval: number[] = []
  for (let r = 0; r < rounds; r++) {
    let n = 0
    const start = process.hrtime.bigint()
    const end = start + BigInt(Math.round((seconds / rounds) * 1e9))
    let now = start
    while (now < end) {
      for (let i = 0; i < 1000; i++) once()
      n += 1000
      now = process.hrtime.bigint()
    }
    perEval.push(Number(now - start) / n)
  }
  perEval.sort((a, b) => a - b)
  const best = perEval[0] ?? NaN
  const median = perEval[Math.floor(perEval.length / 2)] ?? NaN
  const rate = (ns: number): string => Math.round(1e9 / ns).toLocaleString('en-US').padStart(10)
  console.log(`${label.padEnd(50)} ${rate(best)} /s best ${rate(median)} /s median  ${median.toFixed(0).padStart(6)} ns/eval`)
}

function perRequest(policy: CompiledPolicy, id: Identity, req: () => PolicyRequest): () => string {
  return () => evaluatePolicy(policy, buildPolicyContext(id, req(), policy.reads, new Date())).result
}

const seconds = Number(process.argv[2] ?? 3)
const policy = compilePolicySources([{ file: 'bench.yaml', text: POLICY }]).get('bench')
if (!policy) throw new Error('bench policy did not compile')
const get = (): PolicyRequest => policyRequestFrom('GET', '/data/orders?page=2', 'api.example.com', headers)
const post = (): PolicyRequest => policyRequestFrom('POST', '/data/orders', 'api.example.com', headers)
const trivial = compilePolicySources([{ file: 't.yaml', text: `name: t\nrules: [{ allow: 'aauth.agent == "https://agent.supply-chain.com"' }]\n` }]).get('t')
if (!trivial) throw new Error('trivial policy did not compile')

console.log(`node ${process.version}, ${policy.rules.length}-rule policy, context built per request, ${seconds}s each; evaluations/s\n`)
measure('allow: all 7 rules evaluated (GET)', seconds, perRequest(policy, identity, get))
measure('allow: all 7 rules evaluated (POST)', seconds, perRequest(policy, identity, post))
measure('deny: first deny rule matches (revoked delegate)', seconds,
  perRequest(policy, { ...identity, agentDelegate: 'revoked-9' }, get))
measure('deny: missing claim, fail closed (error path)', seconds,
  perRequest(policy, { ...identity, claims: {} }, get))
measure('one-rule policy (aauth.agent == ...)', seconds, perRequest(trivial, identity, get))
measure('context only (no evaluation)', seconds, () => buildPolicyContext(identity, get(), policy.reads, new Date()))

import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { stringify } from 'yaml'
import { variantOf, type RowDef } from './rows.js'

/** The `@authority` bench agents sign: the gateway's configured `resource.authority`. */
export const AUTHORITY = 'api.bench'

/**
 * Policies rows may name, as written to the policies directory. `agent` is the loopback agent
 * server's origin. A realistic 7-rule set: trusted agent servers, revoked delegates and deep
 * delegation refused, writes need a scope, a level floor, an admin area kept out.
 */
function policies(agent: string): Record<string, unknown>[] {
  return [
    {
      name: 'bench-agents',
      rules: [
        { allow: `aauth.agent == ${JSON.stringify(agent)}` },
        { allow: 'aauth.agent.endsWith(".supply-chain.example")' },
        { deny: 'aauth.agent_delegate.startsWith("revoked-")' },
        { deny: 'size(aauth.delegation) > 3' },
        { require: 'request.method == "GET" || "data.write" in aauth.scope' },
        { require: 'aauth.level == "identified" || aauth.level == "authorized"' },
        { require: '!request.path.contains("/admin/")' },
      ],
    },
  ]
}

/**
 * Writes the config of the gateway serving the gateway rows with `workers` (a temp dir holding
 * `gateway.yaml` and `policies/`), with one route per such row. Decision lines and metrics stay
 * on, as in production; the replay store keeps its default bound. Returns the config file's path.
 */
export interface GatewayVariant {
  /** The config's `workers` (default 1). */
  workers?: number
  /** A Redis URL: the gateway runs with `store.type: redis` on it. */
  redisUrl?: string
  /** `signatures.replay.max_entries`, when the default is too small for the run. */
  replayMaxEntries?: number
}

export function writeGatewayConfig(allRows: readonly RowDef[], upstream: string, agent: string | undefined, variant: GatewayVariant = {}): string {
  const workers = variant.workers ?? 1
  const store = variant.redisUrl === undefined ? 'memory' : 'redis'
  const rows = allRows.filter((r) => r.via === 'gateway' && variantOf(r) === `${workers} ${store}`)
  const { replayMaxEntries } = variant
  const dir = mkdtempSync(join(tmpdir(), 'aauth-bench-'))
  mkdirSync(join(dir, 'policies'))
  const usesPolicy = rows.some((r) => r.policy !== undefined)
  if (usesPolicy) {
    if (agent === undefined) throw new Error('policy rows need the agent server')
    const docs = policies(agent).map((p) => stringify(p))
    writeFileSync(join(dir, 'policies', 'bench.yaml'), docs.join('---\n'))
  }
  const routes = rows.map((r) => ({
    name: r.prefix.slice(1),
    match: { path_prefix: r.prefix },
    upstream,
    access: r.access ?? 'open',
    ...(r.policy !== undefined ? { policy: r.policy } : {}),
  }))
  const config = {
    listen: '127.0.0.1:0',
    admin: '127.0.0.1:0',
    ...(workers > 1 ? { workers } : {}),
    ...(variant.redisUrl !== undefined ? { store: { type: 'redis', url: variant.redisUrl, key_prefix: `aauth-bench-${process.pid}:` } } : {}),
    resource: { issuer: `https://${AUTHORITY}`, authority: AUTHORITY },
    trust: agent === undefined ? {} : { agent_providers: [agent], insecure_issuers: [agent] },
    ...(usesPolicy ? { policies: './policies' } : {}),
    ...(replayMaxEntries !== undefined ? { signatures: { replay: { max_entries: replayMaxEntries } } } : {}),
    routes,
  }
  const file = join(dir, 'gateway.yaml')
  writeFileSync(file, stringify(config))
  return file
}

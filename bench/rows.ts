import type { AccessLevel } from '../src/identity.js'

/** The server a row drives. */
export type Target = 'backend' | 'proxy' | 'forward' | 'forward-verify' | 'gateway'

/**
 * How the row's requests are made: one unsigned request reused, or pre-signed unique requests
 * with an `hwk` key or with an agent token from the loopback agent server (`jwt` scheme).
 */
export type Auth = 'unsigned' | 'hwk' | 'agent-token'

export interface RowDef {
  name: string
  via: Target
  /** Request paths start with it; for a gateway row it is also its route's `path_prefix`. */
  prefix: string
  auth: Auth
  /** Gateway rows: the route's `access`, and a policy from `bench/config.ts` by name. */
  access?: AccessLevel
  policy?: string
  /**
   * Gateway rows: the config's `workers`. Rows with more than 1 drive `aauth-gateway serve` as
   * users run it: a cluster primary and that many workers (docs/scaling.md).
   */
  workers?: number
  /** Gateway rows: `redis` runs the row's gateway with `store.type: redis` on a bench redis-server. */
  store?: 'redis'
}

/**
 * The rows, in the order they run and print. The `proxy` row is the baseline that gateway rows
 * are compared with. A new row is one line here (and, for a new policy, one entry in config.ts).
 */
export const ROWS: readonly RowDef[] = [
  { name: 'backend direct', via: 'backend', prefix: '/data', auth: 'unsigned' },
  { name: 'plain proxy', via: 'proxy', prefix: '/data', auth: 'unsigned' },
  { name: 'limit: node:http forward', via: 'forward', prefix: '/data', auth: 'unsigned' },
  { name: 'limit: forward + 1 verify', via: 'forward-verify', prefix: '/data', auth: 'hwk' },
  { name: 'gateway open', via: 'gateway', prefix: '/open', auth: 'unsigned', access: 'open' },
  { name: 'gateway pseudonymous (hwk)', via: 'gateway', prefix: '/hwk', auth: 'hwk', access: 'pseudonymous' },
  { name: 'gateway identified (agent token, warm cache)', via: 'gateway', prefix: '/agent', auth: 'agent-token', access: 'identified' },
  { name: 'gateway identified + policy', via: 'gateway', prefix: '/policy', auth: 'agent-token', access: 'identified', policy: 'bench-agents' },
  { name: 'gateway identified, workers: 2', via: 'gateway', prefix: '/agent', auth: 'agent-token', access: 'identified', workers: 2 },
  { name: 'gateway identified, store: redis', via: 'gateway', prefix: '/agent', auth: 'agent-token', access: 'identified', store: 'redis' },
]

/** A gateway row's variant: which gateway process serves it (rows of one variant share one). */
export function variantOf(row: RowDef): string {
  return `${workersOf(row)} ${row.store ?? 'memory'}`
}

/** The `workers` a row's gateway runs with (1 for rows that do not say). */
export function workersOf(row: RowDef): number {
  return row.workers ?? 1
}

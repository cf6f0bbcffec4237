import { BlockList, isIP } from 'node:net'

/**
 * `trust.proxies` (docs/operations.md "Behind a load balancer"): the peers whose `X-Forwarded-*` and
 * `X-Request-Id` the gateway keeps. Anyone can send those headers, so they are believed only
 * from a load balancer the operator listed, as Envoy's `xff_num_trusted_hops` and nginx's
 * `set_real_ip_from` do; from any other peer they are replaced.
 */
export interface TrustedProxies {
  /** Whether the connection's peer address is a listed proxy. */
  has(address: string | undefined): boolean
}

/** `addr/prefix`, or a bare address (one host), IPv4 or IPv6. */
export function parseCidr(text: string): { address: string; prefix: number; family: 'ipv4' | 'ipv6' } | undefined {
  const slash = text.indexOf('/')
  const address = slash === -1 ? text : text.slice(0, slash)
  const version = isIP(address)
  if (version === 0) return undefined
  const max = version === 4 ? 32 : 128
  const bits = slash === -1 ? String(max) : text.slice(slash + 1)
  if (!/^\d{1,3}$/.test(bits) || Number(bits) > max) return undefined
  return { address, prefix: Number(bits), family: version === 4 ? 'ipv4' : 'ipv6' }
}

const NOBODY: TrustedProxies = Object.freeze({ has: () => false })

/**
 * Compiles the CIDR list (validated by the schema) into a `node:net` BlockList, which also
 * matches an IPv4-mapped IPv6 peer (`::ffff:10.0.0.1`, what a dual-stack listener reports)
 * against IPv4 ranges.
 */
export function trustedProxies(cidrs: readonly string[]): TrustedProxies {
  if (cidrs.length === 0) return NOBODY
  const list = new BlockList()
  for (const text of cidrs) {
    const cidr = parseCidr(text)
    if (cidr !== undefined) list.addSubnet(cidr.address, cidr.prefix, cidr.family)
  }
  return {
    has(address) {
      if (address === undefined) return false
      const version = isIP(address)
      return version !== 0 && list.check(address, version === 4 ? 'ipv4' : 'ipv6')
    },
  }
}

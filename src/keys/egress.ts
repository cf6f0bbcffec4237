import { lookup as dnsLookup, type LookupAddress, type LookupOptions } from 'node:dns'
import { BlockList, isIP } from 'node:net'

/**
 * Egress admission by address (Signature-Key §7.2): discovery must not reach private, loopback,
 * link-local or otherwise special addresses, or an attacker-chosen issuer could probe the
 * gateway's network. The check runs inside the connection's own DNS lookup, so the address
 * that was checked is the address connected to (no DNS-rebinding window).
 */

/**
 * Special-purpose ranges (RFC 6890 and successors) that discovery never connects to. `BlockList`
 * matches IPv4-mapped IPv6 addresses (`::ffff:a.b.c.d`) against the IPv4 rules.
 */
const SPECIAL = new BlockList()
for (const [net, prefix] of [
  ['0.0.0.0', 8], ['10.0.0.0', 8], ['100.64.0.0', 10], ['127.0.0.0', 8], ['169.254.0.0', 16],
  ['172.16.0.0', 12], ['192.0.0.0', 24], ['192.0.2.0', 24], ['192.168.0.0', 16], ['198.18.0.0', 15],
  ['198.51.100.0', 24], ['203.0.113.0', 24], ['224.0.0.0', 4], ['240.0.0.0', 4],
] as const) {
  SPECIAL.addSubnet(net, prefix, 'ipv4')
}
for (const [net, prefix] of [
  ['::', 128], ['::1', 128], ['64:ff9b::', 96], ['100::', 64], ['2001:db8::', 32],
  ['fc00::', 7], ['fe80::', 10], ['fec0::', 10], ['ff00::', 8],
] as const) {
  SPECIAL.addSubnet(net, prefix, 'ipv6')
}

/** True for a public unicast IP address; false for special ranges and for non-addresses. */
export function isPublicAddress(address: string): boolean {
  const family = isIP(address)
  if (family === 0) return false
  return !SPECIAL.check(address, family === 4 ? 'ipv4' : 'ipv6')
}

/** Thrown (through the lookup callback) when a host resolves to a refused address. */
export class AddressRefused extends Error {
  override readonly name = 'AddressRefused'
}

type LookupCallback = (err: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void

/**
 * A `lookup` for `http.request` that resolves every address of the host and refuses the
 * connection if any is special, unless `allowPrivate` (an origin in `trust.insecure_issuers`).
 */
export function guardedLookup(allowPrivate: boolean) {
  return (hostname: string, options: LookupOptions, callback: LookupCallback): void => {
    dnsLookup(hostname, { ...options, all: true }, (err, addresses) => {
      if (err) return callback(err, '', 0)
      const refused = addresses.length === 0 || (!allowPrivate && addresses.some((a) => !isPublicAddress(a.address)))
      if (refused) return callback(new AddressRefused(`${hostname} resolves to a refused address`), '', 0)
      if (options.all) return callback(null, addresses)
      const first = addresses[0] as LookupAddress
      callback(null, first.address, first.family)
    })
  }
}

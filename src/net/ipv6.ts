import ipaddr from 'ipaddr.js'

/** An IPv6 prefix: its network address (host bits cleared) and length. */
export interface Ipv6Prefix {
  readonly network: ipaddr.IPv6
  readonly length: number
  /** As RFC 5952 writes it, e.g. `fd00:1::/64`. */
  readonly cidr: string
}

/** An IPv6 address in any spelling (a zone such as `%eth0` dropped), or undefined for anything else. */
export function parseIpv6(address: string): ipaddr.IPv6 | undefined {
  if (!ipaddr.IPv6.isValid(address)) return undefined
  return new ipaddr.IPv6(ipaddr.IPv6.parse(address).parts)
}

/** The prefix of `length` bits that holds `address`. */
export function ipv6PrefixOf(address: ipaddr.IPv6, length: number): Ipv6Prefix {
  const network = ipaddr.IPv6.networkAddressFromCIDR(`${address.toNormalizedString()}/${length}`)
  return {network, length, cidr: `${network.toRFC5952String()}/${length}`}
}

/** A CIDR such as `fd00:1::1/64` (as `os.networkInterfaces()` gives it) as its prefix, or undefined. */
export function parseIpv6Prefix(cidr: string): Ipv6Prefix | undefined {
  if (!ipaddr.IPv6.isValidCIDR(cidr)) return undefined
  const [address, length] = ipaddr.IPv6.parseCIDR(cidr)
  return ipv6PrefixOf(address, length)
}

export function inIpv6Prefix(address: ipaddr.IPv6, prefix: Ipv6Prefix): boolean {
  return address.match(prefix.network, prefix.length)
}

/** `address` with an IPv4-mapped IPv6 address (`::ffff:192.0.2.7`, as a dual-stack socket reports IPv4) unwrapped. */
export function unmapIpv4(address: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address)
  return mapped ? mapped[1]! : address
}

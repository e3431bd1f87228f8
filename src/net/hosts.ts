import {readFileSync} from 'node:fs'
import {SocketAddress, isIP} from 'node:net'
import os from 'node:os'

/** Link-local addresses change with every network and cannot be reached by name: never put them in a certificate. */
function isLinkLocal(address: string): boolean {
  return address.startsWith('169.254.') || /^fe[89ab][0-9a-f]:/i.test(address)
}

/** IFA_F_TEMPORARY (linux/if_addr.h): the flag of an RFC 8981 temporary address in /proc/net/if_inet6. */
const temporaryFlag = 0x01

function canonicalIPv6(address: string): string {
  return new SocketAddress({address, family: 'ipv6'}).address
}

function readAddressTable(): string {
  try {
    return readFileSync('/proc/net/if_inet6', 'utf8')
  } catch {
    return ''
  }
}

/**
 * The machine's IPv6 temporary ("privacy") addresses, from Linux's table of IPv6 addresses (a line
 * each: 32 hex digits, interface index, prefix length, scope, flags, name); none where there is no
 * such table. The kernel makes a new one every day or so for outgoing connections: nobody opens a
 * page at one, and a certificate that followed them would be reissued daily.
 */
export function temporaryAddresses(table = readAddressTable()): Set<string> {
  const found = new Set<string>()
  for (const line of table.split('\n')) {
    const [hex, , , , flags] = line.trim().split(/\s+/)
    if (!hex || !/^[0-9a-f]{32}$/i.test(hex) || !flags) continue
    if ((Number.parseInt(flags, 16) & temporaryFlag) !== 0) {
      found.add(canonicalIPv6(hex.match(/.{4}/g)!.join(':')))
    }
  }
  return found
}

/**
 * The machine's addresses that phones on the LAN will use: not loopback, not link-local, not an
 * IPv6 temporary address. Read afresh at each call: DHCP and the ISP change them while a server runs.
 */
export function lanAddresses(): string[] {
  const addresses: string[] = []
  let temporary: Set<string> | undefined
  for (const entries of Object.values(os.networkInterfaces())) {
    for (const entry of entries ?? []) {
      if (entry.internal || isLinkLocal(entry.address)) continue
      if (entry.family === 'IPv6' && (temporary ??= temporaryAddresses()).has(canonicalIPv6(entry.address))) {
        continue
      }
      addresses.push(entry.address)
    }
  }
  return addresses
}

/** Whether a server bound to `host` listens on all interfaces ('::' dual-stack, '0.0.0.0' IPv4 only). */
export function isWildcardHost(host: string): boolean {
  return host === '::' || host === '0.0.0.0'
}

/** The host's name and its mDNS `.local` name, without doubling a name that already ends in `.local`. */
export function machineNames(hostname = os.hostname()): string[] {
  const name = hostname.toLowerCase()
  if (name === '' || name === 'localhost') return []
  const bare = name.endsWith('.local') ? name.slice(0, -'.local'.length) : name
  return [bare, `${bare}.local`]
}

const dnsName =
  /^(?=.{1,253}$)(\*\.)?([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/i

/** Whether `host` can stand in a certificate's subjectAltName as a DNS name or an IP address. */
export function isValidHost(host: string): boolean {
  return isIP(host) !== 0 || dnsName.test(host)
}

/**
 * The IPv6 prefixes (CIDR) of this machine's interfaces, loopback's too: the networks it is on.
 * Link-local ones are left out: every interface has fe80::/64, so it tells no network from another.
 */
export function interfacePrefixes(): string[] {
  const prefixes: string[] = []
  for (const entries of Object.values(os.networkInterfaces())) {
    for (const entry of entries ?? []) {
      if (entry.family === 'IPv6' && entry.cidr && !isLinkLocal(entry.address)) prefixes.push(entry.cidr)
    }
  }
  return prefixes
}

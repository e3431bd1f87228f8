import {isIP} from 'node:net'
import os from 'node:os'

/** Link-local addresses change with every network and cannot be reached by name: never put them in a certificate. */
function isLinkLocal(address: string): boolean {
  return address.startsWith('169.254.') || /^fe[89ab][0-9a-f]:/i.test(address)
}

/** The machine's non-loopback, non-link-local addresses (what phones on the LAN will use). */
export function lanAddresses(): string[] {
  const addresses: string[] = []
  for (const entries of Object.values(os.networkInterfaces())) {
    for (const entry of entries ?? []) {
      if (!entry.internal && !isLinkLocal(entry.address)) addresses.push(entry.address)
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

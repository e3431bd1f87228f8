import type {IncomingMessage} from 'node:http'
import {BlockList, isIP} from 'node:net'

import proxyaddr from 'proxy-addr'

import {checkTrustedProxies} from '../config/stored-settings.js'
import {unmapIpv4} from '../net/ipv6.js'

/** Whether the hop at `address` is a trusted proxy; `hop` 0 is the connection itself. */
export type ProxyTrust = (address: string | undefined, hop: number) => boolean

/**
 * The predicate for express's `trust proxy` setting: express (proxy-addr) walks X-Forwarded-For from
 * the right while each hop is trusted, so the client is the right-most address not in the list, and
 * the header is never read at all unless the connection itself comes from a listed address. A
 * connection on a Unix socket has no address: it comes from this machine, so it counts as 127.0.0.1.
 */
export function proxyTrust(values: string[]): ProxyTrust | false {
  checkTrustedProxies(values)
  if (values.length === 0) return false
  const trusted = new BlockList()
  for (const value of values) {
    const [address = '', prefix] = value.split('/')
    const type = isIP(address) === 4 ? 'ipv4' : 'ipv6'
    if (prefix === undefined) trusted.addAddress(address, type)
    else trusted.addSubnet(address, Number(prefix), type)
  }
  // Asked for every request a proxy forwards, about the same few addresses: BlockList.check builds
  // an address object each time, so the answers are kept (forgotten all at once past 1,024).
  const answers = new Map<string, boolean>()
  return (address, hop) => {
    const hopAddress = address ?? (hop === 0 ? '127.0.0.1' : '')
    let answer = answers.get(hopAddress)
    if (answer === undefined) {
      const version = isIP(hopAddress)
      answer = version !== 0 && trusted.check(hopAddress, version === 4 ? 'ipv4' : 'ipv6')
      if (answers.size >= 1024) answers.clear()
      answers.set(hopAddress, answer)
    }
    return answer
  }
}

/**
 * The client's address: the connection's, or the one a trusted proxy names in X-Forwarded-For,
 * found as express's `req.ip` finds it (proxy-addr); 'unknown' for a Unix socket without a proxy.
 */
export function clientAddress(req: IncomingMessage, trust: ProxyTrust | false): string {
  return (trust ? proxyaddr(req, trust) : req.socket.remoteAddress) ?? 'unknown'
}

/** Loopback and private ranges: where a reverse proxy in a home sits (RFC 1918, RFC 4193, link-local). */
const localRanges = new BlockList()
localRanges.addSubnet('127.0.0.0', 8, 'ipv4')
localRanges.addSubnet('10.0.0.0', 8, 'ipv4')
localRanges.addSubnet('172.16.0.0', 12, 'ipv4')
localRanges.addSubnet('192.168.0.0', 16, 'ipv4')
localRanges.addSubnet('169.254.0.0', 16, 'ipv4')
localRanges.addAddress('::1', 'ipv6')
localRanges.addSubnet('fc00::', 7, 'ipv6')
localRanges.addSubnet('fe80::', 10, 'ipv6')

/** Whether `address` (as the socket reports it) is loopback or private; a Unix socket (no address) is this machine. */
export function isLocalAddress(address: string | undefined): boolean {
  if (address === undefined) return true
  const plain = unmapIpv4(address)
  const version = isIP(plain)
  return version !== 0 && localRanges.check(plain, version === 4 ? 'ipv4' : 'ipv6')
}

const forwardingHeaders = [
  'x-forwarded-for',
  'forwarded',
  'x-forwarded-host',
  'x-forwarded-proto',
  'x-real-ip',
]

/** The first forwarding header a request carries (as a proxy adds them), or undefined. */
export function forwardingHeaderOf(headers: Record<string, unknown>): string | undefined {
  return forwardingHeaders.find((name) => headers[name] !== undefined)
}

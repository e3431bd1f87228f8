import {usageError} from '../errors.js'
import {isValidHost, lanAddresses, machineNames} from '../net/hosts.js'
import {canonicalHost} from './inspect.js'

/** Every name and address the server certificate should cover: loopback, the machine, the LAN, and extras. */
export function certificateHosts(extra: string[] = []): string[] {
  const all = ['localhost', '127.0.0.1', '::1', ...machineNames(), ...lanAddresses(), ...extra]
  return [...new Set(all.map((host) => host.toLowerCase()))]
}

/**
 * The hosts in `wanted` that a certificate for `present` lacks, each compared in one spelling. Only
 * names a certificate can hold count: one it cannot (a machine name with an underscore) would still
 * be missing after every reissue.
 */
export function missingHosts(present: string[], wanted: string[]): string[] {
  const have = new Set(present.map(canonicalHost))
  const candidates = wanted.filter((host) => isValidHost(host)).map(canonicalHost)
  return [...new Set(candidates)].filter((host) => !have.has(host))
}

/** Why `hosts` cannot all stand in a certificate, naming the first that cannot; undefined when they all can. */
export function invalidHostProblem(hosts: string[]): string | undefined {
  const bad = hosts.find((host) => !isValidHost(host))
  return bad === undefined ? undefined : `${JSON.stringify(bad)} is neither a host name nor an IP address.`
}

/** --san's values (serve, init, cert renew) in lower case; a usage error naming the first that cannot stand in a certificate. */
export function parseExtraHosts(hosts: string[]): string[] {
  const lowered = hosts.map((host) => host.toLowerCase())
  const problem = invalidHostProblem(lowered)
  if (problem !== undefined) {
    throw usageError(`--san ${problem}`, ['Pass names like pi.home.arpa or addresses like 192.168.1.20.'])
  }
  return lowered
}

import {usageError} from '../errors.js'
import {isValidHost, lanAddresses, machineNames} from '../net/hosts.js'

/** Every name and address the server certificate should cover: loopback, the machine, the LAN, and extras. */
export function certificateHosts(extra: string[] = []): string[] {
  const all = ['localhost', '127.0.0.1', '::1', ...machineNames(), ...lanAddresses(), ...extra]
  return [...new Set(all.map((host) => host.toLowerCase()))]
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

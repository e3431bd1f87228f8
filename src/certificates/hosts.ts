import {usageError} from '../errors.js'
import {homeauthCommand, shellQuoted} from '../invocation.js'
import {isValidHost, lanAddresses, machineNames} from '../net/hosts.js'
import {permits, type NameConstraints} from './constraints.js'
import {canonicalHost} from './inspect.js'

/**
 * Every name and address the server certificate should cover: loopback, the machine, the LAN, and
 * `extra`, as far as a CA with `constraints` may vouch for them. The machine's own that it may not
 * (a global IPv6 address, a public IPv4 one) are left out: nobody chose them, and the home's devices
 * reach the machine by its other names. An `extra` one is refused (see `refuseUnpermittedHosts`).
 */
export function certificateHosts(extra: string[] = [], constraints?: NameConstraints): string[] {
  refuseUnpermittedHosts(extra, constraints)
  const machine = ['localhost', '127.0.0.1', '::1', ...machineNames(), ...lanAddresses()].filter((host) =>
    permits(constraints, host),
  )
  return [...new Set([...machine, ...extra].map((host) => host.toLowerCase()))]
}

/**
 * A usage error naming the first of `extra` (names given with --san) that a CA with `constraints`
 * may not vouch for, and the init that makes a CA permitting all of them; nothing when it permits all.
 */
export function refuseUnpermittedHosts(extra: string[], constraints: NameConstraints | undefined): void {
  const outside = extra.find((host) => !permits(constraints, host))
  if (outside === undefined) return
  const sans = [...new Set(extra)].map((host) => `--san ${shellQuoted(host)}`).join(' ')
  throw usageError(
    `The CA cannot vouch for ${outside}: its name constraints permit only the home's names and private addresses.`,
    [
      `Make a new CA that includes it with: ${homeauthCommand(`init --new-ca ${sans}`)} (every device must then trust the new CA).`,
    ],
  )
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

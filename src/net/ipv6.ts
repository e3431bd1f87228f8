import {isIPv6} from 'node:net'

/** An IPv6 prefix: its address with the bits beyond `length` cleared, as eight 16-bit groups. */
export interface Ipv6Prefix {
  readonly groups: readonly number[]
  readonly length: number
  /** As RFC 5952 writes it, e.g. `fd00:1::/64`. */
  readonly cidr: string
}

/** The eight 16-bit groups of an IPv6 address (a zone such as `%eth0` dropped, a dotted IPv4 tail read), or undefined. */
export function ipv6Groups(address: string): number[] | undefined {
  const [plain = ''] = address.split('%', 1)
  if (!isIPv6(plain)) return undefined
  const dotted = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(plain)
  const text = dotted
    ? `${plain.slice(0, dotted.index)}${((Number(dotted[1]) << 8) | Number(dotted[2])).toString(16)}:${((Number(dotted[3]) << 8) | Number(dotted[4])).toString(16)}`
    : plain
  const [head = '', tail] = text.split('::')
  const headGroups = head ? head.split(':') : []
  const tailGroups = tail ? tail.split(':') : []
  const groups =
    tail === undefined
      ? headGroups
      : [...headGroups, ...Array<string>(8 - headGroups.length - tailGroups.length).fill('0'), ...tailGroups]
  return groups.map((group) => Number.parseInt(group, 16))
}

/** RFC 5952's form: lower case, no leading zeros, the longest run of two or more zero groups as `::`. */
export function formatIpv6(groups: readonly number[]): string {
  let runStart = 0
  let runLength = 0
  for (let start = 0; start < groups.length;) {
    let end = start
    while (end < groups.length && groups[end] === 0) end++
    if (end - start > runLength) [runStart, runLength] = [start, end - start]
    start = end + 1
  }
  const hex = groups.map((group) => group.toString(16))
  if (runLength < 2) return hex.join(':')
  return `${hex.slice(0, runStart).join(':')}::${hex.slice(runStart + runLength).join(':')}`
}

/** The mask of group `index` for a prefix of `length` bits. */
function groupMask(length: number, index: number): number {
  const bits = Math.min(16, Math.max(0, length - 16 * index))
  return (0xffff << (16 - bits)) & 0xffff
}

/** The first `length` bits of an address, the rest cleared. */
export function ipv6Prefix(groups: readonly number[], length: number): Ipv6Prefix {
  const masked = groups.map((group, index) => group & groupMask(length, index))
  return {groups: masked, length, cidr: `${formatIpv6(masked)}/${length}`}
}

/** A CIDR such as `fd00:1::1/64` (as `os.networkInterfaces()` gives it) as its prefix, or undefined. */
export function parseIpv6Prefix(cidr: string): Ipv6Prefix | undefined {
  const [address = '', length = '', ...rest] = cidr.split('/')
  const groups = ipv6Groups(address)
  if (!groups || rest.length > 0 || !/^\d{1,3}$/.test(length) || Number(length) > 128) return undefined
  return ipv6Prefix(groups, Number(length))
}

/** Whether the address `groups` lies in `prefix`. */
export function inIpv6Prefix(groups: readonly number[], prefix: Ipv6Prefix): boolean {
  return prefix.groups.every((group, index) => (groups[index]! & groupMask(prefix.length, index)) === group)
}

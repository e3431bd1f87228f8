import {describe, expect, it} from 'vitest'

import {formatIpv6, inIpv6Prefix, ipv6Groups, parseIpv6Prefix} from '../../src/net/ipv6.js'

describe('IPv6 addresses and prefixes', () => {
  it('reads every spelling of an address to the same groups, and writes it as RFC 5952 does', () => {
    const spellings = ['fd00:1::10', 'FD00:0001:0:0:0:0:0:0010', 'fd00:1:0::10', 'fd00:1::10%lan0']
    for (const spelling of spellings) expect(formatIpv6(ipv6Groups(spelling)!)).toBe('fd00:1::10')
    expect(ipv6Groups('::ffff:192.0.2.1')).toEqual([0, 0, 0, 0, 0, 0xffff, 0xc000, 0x0201])
    expect(formatIpv6(ipv6Groups('::')!)).toBe('::')
    expect(formatIpv6(ipv6Groups('2001:db8:0:1:1:1:1:1')!)).toBe('2001:db8:0:1:1:1:1:1')
    expect(formatIpv6(ipv6Groups('2001:0:0:1:0:0:0:1')!)).toBe('2001:0:0:1::1')
    expect(formatIpv6(ipv6Groups('2001:db8:0:0:1:0:0:1')!)).toBe('2001:db8::1:0:0:1')
    for (const bad of ['192.0.2.1', 'fd00::1::2', 'fd00:1', 'g::1', ''])
      expect(ipv6Groups(bad)).toBeUndefined()
  })

  it('reads a CIDR to its prefix, host bits cleared, and tells which addresses lie in it', () => {
    const lan = parseIpv6Prefix('fd00:1::1/64')!
    expect(lan.cidr).toBe('fd00:1::/64')
    expect(inIpv6Prefix(ipv6Groups('fd00:1::ffff:1')!, lan)).toBe(true)
    expect(inIpv6Prefix(ipv6Groups('fd00:1:0:1::1')!, lan)).toBe(false)
    const odd = parseIpv6Prefix('fe80::1/10')!
    expect(odd.cidr).toBe('fe80::/10')
    expect(inIpv6Prefix(ipv6Groups('febf::1')!, odd)).toBe(true)
    expect(inIpv6Prefix(ipv6Groups('fec0::1')!, odd)).toBe(false)
    for (const bad of ['fd00::1', 'fd00::1/129', 'fd00::1/64/1', '10.0.0.1/8', 'fd00::1/x'])
      expect(parseIpv6Prefix(bad)).toBeUndefined()
  })
})

import {describe, expect, it} from 'vitest'

import {inIpv6Prefix, ipv6PrefixOf, parseIpv6, parseIpv6Prefix} from '../../src/net/ipv6.js'

describe('IPv6 addresses and prefixes', () => {
  it('reads every spelling of an address to one, written as RFC 5952 does, and refuses anything else', () => {
    const spellings = ['fd00:1::10', 'FD00:0001:0:0:0:0:0:0010', 'fd00:1:0::10', 'fd00:1::10%lan0']
    for (const spelling of spellings) expect(parseIpv6(spelling)?.toRFC5952String()).toBe('fd00:1::10')
    expect(parseIpv6('2001:0:0:1:0:0:0:1')?.toRFC5952String()).toBe('2001:0:0:1::1')
    for (const bad of ['192.0.2.1', 'fd00::1::2', 'fd00:1', 'g::1', ''])
      expect(parseIpv6(bad)).toBeUndefined()
  })

  it('reads a CIDR to its prefix, host bits cleared, and tells which addresses lie in it', () => {
    const lan = parseIpv6Prefix('fd00:1::1/64')!
    expect(lan.cidr).toBe('fd00:1::/64')
    expect(inIpv6Prefix(parseIpv6('fd00:1::ffff:1')!, lan)).toBe(true)
    expect(inIpv6Prefix(parseIpv6('fd00:1:0:1::1')!, lan)).toBe(false)
    const odd = parseIpv6Prefix('fe80::1/10')!
    expect(odd.cidr).toBe('fe80::/10')
    expect(inIpv6Prefix(parseIpv6('febf::1')!, odd)).toBe(true)
    expect(inIpv6Prefix(parseIpv6('fec0::1')!, odd)).toBe(false)
    expect(ipv6PrefixOf(parseIpv6('2001:db8:aa:bb:1:2:3:4')!, 64).cidr).toBe('2001:db8:aa:bb::/64')
    for (const bad of ['fd00::1', 'fd00::1/129', 'fd00::1/64/1', '10.0.0.1/8', 'fd00::1/x'])
      expect(parseIpv6Prefix(bad)).toBeUndefined()
  })
})

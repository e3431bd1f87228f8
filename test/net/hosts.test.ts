import {describe, expect, it} from 'vitest'

import {isValidHost, machineNames, temporaryAddresses} from '../../src/net/hosts.js'

describe('host names', () => {
  it('adds .local to the machine name without doubling it', () => {
    expect(machineNames('Pi')).toEqual(['pi', 'pi.local'])
    expect(machineNames('pi.local')).toEqual(['pi', 'pi.local'])
    expect(machineNames('localhost')).toEqual([])
  })

  it('accepts DNS names and IP addresses, and nothing else', () => {
    for (const good of ['pi', 'pi.home.arpa', '*.example.com', '192.168.1.20', 'fd00::1'])
      expect(isValidHost(good)).toBe(true)
    for (const bad of ['', 'a b', 'pi..local', '-pi', 'pi/1', 'x'.repeat(64)])
      expect(isValidHost(bad)).toBe(false)
  })
})

describe('temporaryAddresses', () => {
  // /proc/net/if_inet6 as Linux writes it, for an interface with a stable and a temporary address.
  const table = [
    'fe800000000000008c67a1fffe22aeb0 03 40 20 80     lan0',
    '20010db8000500000000000000000001 03 40 00 82     lan0',
    '20010db800050000d95b324804ee92ac 03 40 00 01     lan0',
    '20010db800050000aaaa000000000001 03 40 00 21     lan0',
    '00000000000000000000000000000001 01 80 10 80       lo',
    '',
  ].join('\n')

  it('finds the addresses flagged temporary (RFC 8981), deprecated ones too, in the spelling Node lists them', () => {
    expect([...temporaryAddresses(table)]).toEqual([
      '2001:db8:5:0:d95b:3248:4ee:92ac',
      '2001:db8:5:0:aaaa::1',
    ])
  })

  it('finds none in an empty or unreadable table', () => {
    expect(temporaryAddresses('').size).toBe(0)
    expect(temporaryAddresses('garbage\n12 34').size).toBe(0)
  })
})

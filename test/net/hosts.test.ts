import {describe, expect, it} from 'vitest'

import {isValidHost, machineNames} from '../../src/net/hosts.js'

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

import {describe, expect, it} from 'vitest'

import {SignInLog} from '../../src/web/sign-ins.js'

describe('SignInLog', () => {
  it('keeps each user’s latest sign-in per address, the most recent addresses only, newest first', () => {
    let now = 1000
    const log = new SignInLog(2, () => now)
    log.record('Jeff', '192.0.2.1')
    now += 1000
    log.record('Bev', '::ffff:192.0.2.9')
    now += 1000
    log.record('Jeff', '192.0.2.2')
    now += 1000
    log.record('Jeff', '192.0.2.1')
    now += 1000
    log.record('Jeff', '2001:db8::3')
    now += 1000
    log.record('Jeff', '2001:db8::3')
    expect(log.latest()).toEqual([
      {user: 'Jeff', address: '2001:db8::3', at: 6000},
      {user: 'Jeff', address: '192.0.2.1', at: 4000},
      {user: 'Bev', address: '192.0.2.9', at: 2000},
    ])
  })

  it('keeps a device’s sign-in apart from its user’s own password from the same address', () => {
    let now = 1000
    const log = new SignInLog(5, () => now)
    log.record('Jeff', '192.0.2.1')
    now += 1000
    log.record('Jeff', '192.0.2.1', 'phone')
    now += 1000
    log.record('Jeff', '192.0.2.1', 'phone')
    expect(log.latest()).toEqual([
      {user: 'Jeff', device: 'phone', address: '192.0.2.1', at: 3000},
      {user: 'Jeff', address: '192.0.2.1', at: 1000},
    ])
  })

  it('says whether anyone signed in from an address lately, IPv4-mapped or not', () => {
    let now = 1000
    const log = new SignInLog(5, () => now)
    log.record('Jeff', '::ffff:192.0.2.1')
    now += 1000
    log.record('Bev', '192.0.2.2', 'phone')
    expect(
      ['192.0.2.1', '::ffff:192.0.2.2', '192.0.2.3'].map((address) => log.signedInFrom(address, 1000)),
    ).toEqual([true, true, false])
    expect(log.signedInFrom('192.0.2.1', 999)).toBe(false)
  })

  it('lists nobody before anyone signs in', () => {
    expect(new SignInLog().latest()).toEqual([])
  })
})

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

  it('lists nobody before anyone signs in', () => {
    expect(new SignInLog().latest()).toEqual([])
  })
})

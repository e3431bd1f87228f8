import {describe, expect, it} from 'vitest'

import {ConnectionCrowd, type CrowdMember, type CrowdOptions} from '../../src/net/connections.js'

interface Member extends CrowdMember {
  busy: boolean
}

function member(address: string, busy = false): Member {
  const created: Member = {client: address, address, busy, idle: () => !created.busy}
  return created
}

function crowd(options: Partial<CrowdOptions> = {}): ConnectionCrowd<Member> {
  return new ConnectionCrowd<Member>({
    maxConnections: 6,
    maxPerClient: 4,
    uncapped: () => false,
    lockedOut: () => false,
    signedIn: () => false,
    ...options,
  })
}

/** Admits `count` members from `address` (busy or not), expecting each to get in without displacing anyone. */
function fill(into: ConnectionCrowd<Member>, address: string, count: number, busy = false): Member[] {
  return Array.from({length: count}, () => {
    const one = member(address, busy)
    expect(into.admit(one)).toEqual({admitted: true, displaced: undefined})
    return one
  })
}

describe('ConnectionCrowd', () => {
  it('refuses a client at its own cap while there is room in all', () => {
    const connections = crowd()
    fill(connections, '10.0.0.1', 4)
    expect(connections.admit(member('10.0.0.1'))).toEqual({admitted: false})
    expect(connections.admit(member('10.0.0.2')).admitted).toBe(true)
    expect(connections.size).toBe(5)
  })

  it('never caps a trusted proxy per client', () => {
    const connections = crowd({uncapped: (address) => address === '10.0.0.9'})
    fill(connections, '10.0.0.9', 6)
    expect(connections.size).toBe(6)
  })

  it('counts a client’s addresses together (clients are what clientOf says)', () => {
    const connections = crowd()
    for (const host of [1, 2, 3, 4]) {
      const one: Member = {...member(`2001:db8::${host}`), client: '2001:db8::/64'}
      expect(connections.admit(one).admitted).toBe(true)
    }
    expect(connections.admit({...member('2001:db8::5'), client: '2001:db8::/64'})).toEqual({admitted: false})
  })

  it('at the total, lets a newcomer displace an idle connection of the client holding the most', () => {
    const connections = crowd()
    const idle = member('10.0.0.2')
    for (const one of [member('10.0.0.1', true), member('10.0.0.1'), member('10.0.0.2', true), idle])
      connections.admit(one)
    fill(connections, '10.0.0.2', 1, true)
    fill(connections, '10.0.0.3', 1)
    // 10.0.0.2 holds 3 (one idle), 10.0.0.1 holds 2 (one idle), 10.0.0.3 holds 1 (idle): the total of 6.
    const newcomer = member('10.0.0.4')
    expect(connections.admit(newcomer)).toEqual({admitted: true, displaced: idle})
    expect(connections.size).toBe(6)
  })

  it('displaces a locked-out client’s connection before an idle one, though it is busy', () => {
    const connections = crowd({lockedOut: (address) => address === '10.0.0.1'})
    const [locked] = fill(connections, '10.0.0.1', 3, true)
    fill(connections, '10.0.0.2', 3)
    expect(connections.admit(member('10.0.0.3'))).toEqual({admitted: true, displaced: locked})
  })

  it('goes on to the next-largest client when the largest has only busy connections', () => {
    const connections = crowd()
    fill(connections, '10.0.0.1', 4, true)
    const [idle] = fill(connections, '10.0.0.2', 2)
    expect(connections.admit(member('10.0.0.3'))).toEqual({admitted: true, displaced: idle})
  })

  it('refuses a newcomer when every connection is busy and nobody is locked out', () => {
    const connections = crowd()
    fill(connections, '10.0.0.1', 3, true)
    fill(connections, '10.0.0.2', 3, true)
    expect(connections.admit(member('10.0.0.3'))).toEqual({admitted: false})
    expect(connections.size).toBe(6)
  })

  it('takes nothing from a client holding fewer than two more than the newcomer’s', () => {
    const connections = crowd({maxConnections: 4})
    fill(connections, '10.0.0.1', 2)
    fill(connections, '10.0.0.2', 2)
    // 10.0.0.1 holds 2, not two more than 10.0.0.2's 2.
    expect(connections.admit(member('10.0.0.2'))).toEqual({admitted: false})
    expect(connections.admit(member('10.0.0.3')).admitted).toBe(true)
  })

  it('never displaces a signed-in client’s idle connection, though it holds the most', () => {
    const connections = crowd({signedIn: (address) => address === '10.0.0.1'})
    fill(connections, '10.0.0.1', 4)
    fill(connections, '10.0.0.2', 2, true)
    expect(connections.admit(member('10.0.0.3'))).toEqual({admitted: false})
  })

  it('makes room for a signed-in client with a busy connection of the largest client that has not signed in', () => {
    const connections = crowd({signedIn: (address) => address === '10.0.0.9'})
    fill(connections, '10.0.0.9', 2, true)
    fill(connections, '10.0.0.1', 1, true)
    const [oldest] = fill(connections, '10.0.0.2', 3, true)
    expect(connections.admit(member('10.0.0.9'))).toEqual({admitted: true, displaced: oldest})
    expect(connections.admit(member('10.0.0.3'))).toEqual({admitted: false})
  })

  it('makes no room for a signed-in client that is locked out', () => {
    const locked = (address: string) => address === '10.0.0.9'
    const connections = crowd({signedIn: locked, lockedOut: locked})
    fill(connections, '10.0.0.1', 3, true)
    fill(connections, '10.0.0.2', 3, true)
    expect(connections.admit(member('10.0.0.9'))).toEqual({admitted: false})
  })

  it('makes room again as connections close, and forgets one only once', () => {
    const connections = crowd({maxConnections: 2})
    const [first] = fill(connections, '10.0.0.1', 2, true)
    expect(connections.admit(member('10.0.0.2'))).toEqual({admitted: false})
    connections.remove(first!)
    connections.remove(first!)
    expect(connections.size).toBe(1)
    expect(connections.admit(member('10.0.0.2')).admitted).toBe(true)
    expect(connections.size).toBe(2)
  })
})

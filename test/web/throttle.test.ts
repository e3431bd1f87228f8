import {describe, expect, it} from 'vitest'

import type {CredentialCheck} from '../../src/credentials/verifier.js'
import {parseIpv6Prefix} from '../../src/net/ipv6.js'
import {
  LoginThrottle,
  parseClientTarget,
  throttledClient,
  type LoginResult,
  type ThrottleOptions,
} from '../../src/web/throttle.js'

function fakeClock(start = 1_000_000) {
  let now = start
  return {now: () => now, advance: (ms: number) => (now += ms)}
}

let checksMade = 0

/** Credentials whose answer is known without hashing, as with -u/-p. */
function knownCheck(verified: boolean): CredentialCheck {
  return {
    digest: `known ${++checksMade}`,
    answerAtOnce: () => verified,
    hash: () => Promise.resolve(verified),
  }
}

/**
 * Credentials that need hashing (or are cached): the test decides when the hash finishes, and counts.
 * With `started`, the digest is added to it when the hash starts.
 */
function hashedCheck(digest: string, options: {cached?: boolean; started?: string[]} = {}) {
  const calls = {lookups: 0, hashes: 0}
  let finishHash: ((verified: boolean) => void) | undefined
  const check: CredentialCheck = {
    digest,
    answerAtOnce: () => {
      calls.lookups++
      return options.cached || undefined
    },
    hash: () => {
      calls.hashes++
      options.started?.push(digest)
      return new Promise<boolean>((resolve) => (finishHash = resolve))
    },
  }
  return {
    check,
    calls,
    finish(verified: boolean) {
      if (!finishHash) throw new Error(`the hash of ${digest} has not started`)
      finishHash(verified)
    },
  }
}

function attempt(throttle: LoginThrottle, key: string, check: CredentialCheck) {
  const admission = throttle.admit(key)
  return admission.verdict === 'admitted' ? admission.check(check) : admission
}

/** A failed login whose answer is known at once; the counts, or the refusal. */
function fail(throttle: LoginThrottle, key: string) {
  const result = attempt(throttle, key, knownCheck(false))
  if (result instanceof Promise) throw new Error('a known answer waited')
  if (result.verdict !== 'rejected') return result
  return {failures: result.failures, lockedForSeconds: result.lockedForSeconds}
}

function succeed(throttle: LoginThrottle, key: string) {
  return attempt(throttle, key, knownCheck(true))
}

const settle = () => new Promise((resolve) => setImmediate(resolve))

const lan = ['fd00:1::1/64', '2001:db8:aa:bb::5/64', '::1/128'].map((cidr) => parseIpv6Prefix(cidr)!)
const linkLocal = parseIpv6Prefix('fe80::/10')!

describe('throttledClient', () => {
  it('keeps IPv4 addresses, unwraps IPv4-mapped ones, and groups IPv6 beyond the LAN by /64', () => {
    const counted = (address: string | undefined) => throttledClient(address, [...lan, linkLocal])
    expect(counted('192.168.1.20')).toEqual({key: '192.168.1.20', prefix: undefined})
    expect(counted('::ffff:192.168.1.20')).toEqual({key: '192.168.1.20', prefix: undefined})
    expect(counted('::FFFF:10.0.0.1')).toEqual({key: '10.0.0.1', prefix: undefined})
    expect(counted('2001:db8:1:2:aaaa:bbbb:cccc:dddd')).toEqual({key: '2001:db8:1:2::/64', prefix: undefined})
    expect(counted('2001:db8:1:2::5').key).toBe('2001:db8:1:2::/64')
    expect(counted('2001:0db8:0001:0002::9').key).toBe('2001:db8:1:2::/64')
    expect(counted('2001:db8::1').key).toBe('2001:db8::/64')
    expect(counted('64:ff9b::192.0.2.1').key).toBe('64:ff9b::/64')
    expect(counted(undefined).key).toBe('unknown')
  })

  it('counts each address of the server’s own prefixes, and each link-local one, on its own, with its prefix', () => {
    const counted = (address: string) => throttledClient(address, [...lan, linkLocal])
    expect(counted('fd00:1::10')).toEqual({key: 'fd00:1::10', prefix: 'fd00:1::/64'})
    expect(counted('fd00:1::11')).toEqual({key: 'fd00:1::11', prefix: 'fd00:1::/64'})
    expect(counted('FD00:0001:0:0::0010')).toEqual({key: 'fd00:1::10', prefix: 'fd00:1::/64'})
    expect(counted('2001:db8:aa:bb:1:2:3:4')).toEqual({
      key: '2001:db8:aa:bb:1:2:3:4',
      prefix: '2001:db8:aa:bb::/64',
    })
    expect(counted('2001:db8:aa:bc::4').key).toBe('2001:db8:aa:bc::/64')
    expect(counted('fd00:2::10').key).toBe('fd00:2::/64')
    expect(counted('fe80::1c2b:3dff:fe4e:5f60')).toEqual({
      key: 'fe80::1c2b:3dff:fe4e:5f60',
      prefix: 'fe80::/10',
    })
    expect(counted('fe80::2%eth0')).toEqual({key: 'fe80::2', prefix: 'fe80::/10'})
    expect(counted('::1')).toEqual({key: '::1', prefix: '::1/128'})
  })

  it('takes the longest of the prefixes an address is in', () => {
    const nested = ['fd00::1/48', 'fd00:0:0:7::1/64'].map((cidr) => parseIpv6Prefix(cidr)!)
    expect(throttledClient('fd00:0:0:7::9', nested).prefix).toBe('fd00:0:0:7::/64')
    expect(throttledClient('fd00:0:0:8::9', nested).prefix).toBe('fd00::/48')
    expect(throttledClient('fd00:0:0:7::9', [...nested].reverse()).prefix).toBe('fd00:0:0:7::/64')
  })

  it('counts every IPv6 address per /64 when the server is on no prefix', () => {
    expect(throttledClient('fd00:1::10', [])).toEqual({key: 'fd00:1::/64', prefix: undefined})
    expect(throttledClient('::1', []).key).toBe('::/64')
  })
})

describe('LoginThrottle on an IPv6 LAN', () => {
  /** A throttle on the LAN fd00:1::/64 (maxFailures 5, so a prefix budget of 20) with a fake clock. */
  function lanThrottle(options: Partial<ThrottleOptions> = {}) {
    const clock = fakeClock()
    const own = {prefixes: ['fd00:1::1/64']}
    const throttle = new LoginThrottle({
      maxFailures: 5,
      lockoutMs: 60_000,
      windowMs: 900_000,
      now: clock.now,
      ownPrefixes: () => own.prefixes,
      ...options,
    })
    return {throttle, clock, own}
  }

  it('leaves a phone signed in when a tablet on the same LAN is locked out', () => {
    const {throttle} = lanThrottle()
    for (let guess = 1; guess < 5; guess++)
      expect(fail(throttle, 'fd00:1::10')).toEqual({failures: guess, lockedForSeconds: undefined})
    expect(fail(throttle, 'fd00:1::10')).toEqual({failures: 0, lockedForSeconds: 60})
    expect(throttle.admit('fd00:1::10')).toEqual({verdict: 'locked-out', retryAfterSeconds: 60})
    expect(succeed(throttle, 'fd00:1::11')).toEqual({verdict: 'verified'})
    expect(fail(throttle, 'fd00:1::11')).toEqual({failures: 1, lockedForSeconds: undefined})
  })

  it('tells each failure what the prefix’s budget holds', () => {
    const {throttle} = lanThrottle()
    fail(throttle, 'fd00:1::10')
    const result = attempt(throttle, 'fd00:1::11', knownCheck(false))
    expect(result).toEqual({
      verdict: 'rejected',
      failures: 1,
      lockedForSeconds: undefined,
      prefix: {cidr: 'fd00:1::/64', failures: 2, lockedForSeconds: undefined},
    })
    expect(attempt(throttle, '2001:db8::1', knownCheck(false))).toEqual({
      verdict: 'rejected',
      failures: 1,
      lockedForSeconds: undefined,
      prefix: undefined,
    })
  })

  it('locks the whole prefix, the right password too, once its addresses together fail 4 × maxFailures times', () => {
    const {throttle} = lanThrottle()
    const results = Array.from({length: 20}, (_, guess) =>
      attempt(throttle, `fd00:1::${(0x100 + guess).toString(16)}`, knownCheck(false)),
    )
    expect(
      results
        .slice(0, 19)
        .every((result) => 'prefix' in result && result.prefix?.lockedForSeconds === undefined),
    ).toBe(true)
    expect(results[18]).toMatchObject({prefix: {failures: 19}})
    expect(results[19]).toEqual({
      verdict: 'rejected',
      failures: 1,
      lockedForSeconds: undefined,
      prefix: {cidr: 'fd00:1::/64', failures: 0, lockedForSeconds: 60},
    })
    expect(throttle.admit('fd00:1::11')).toEqual({verdict: 'locked-out', retryAfterSeconds: 60})
    expect(throttle.admit('fd00:1::dead:beef')).toEqual({verdict: 'locked-out', retryAfterSeconds: 60})
    expect(throttle.admit('fe80::1').verdict).toBe('admitted')
    expect(throttle.admit('fd00:2::1').verdict).toBe('admitted')
    expect(throttle.admit('192.168.1.20').verdict).toBe('admitted')
  })

  it('scales the prefix’s budget with devicesPerPrefix and maxFailures', () => {
    const {throttle} = lanThrottle({maxFailures: 2, devicesPerPrefix: 3})
    for (let guess = 0; guess < 5; guess++) fail(throttle, `fd00:1::${guess + 1}`)
    expect(throttle.admit('fd00:1::99').verdict).toBe('admitted')
    expect(fail(throttle, 'fd00:1::6')).toEqual({failures: 1, lockedForSeconds: undefined})
    expect(throttle.admit('fd00:1::99').verdict).toBe('locked-out')
  })

  it('doubles the prefix’s next lockout, and forgets it after a window without failures', () => {
    const {throttle, clock} = lanThrottle({maxFailures: 1, devicesPerPrefix: 2})
    const lockouts: (number | undefined)[] = []
    for (let round = 0; round < 3; round++) {
      fail(throttle, `fd00:1::${round}:1`)
      const result = attempt(throttle, `fd00:1::${round}:2`, knownCheck(false))
      lockouts.push('prefix' in result ? result.prefix?.lockedForSeconds : undefined)
      clock.advance(240_001)
    }
    expect(lockouts).toEqual([60, 120, 240])
    expect(throttle.trackedPrefixes).toBe(1)
    clock.advance(900_001)
    expect(throttle.admit('fd00:1::7').verdict).toBe('admitted')
    expect(throttle.trackedPrefixes).toBe(0)
  })

  it('never resets the prefix’s budget on a success: a valid login buys a guesser beside it nothing', () => {
    const {throttle} = lanThrottle({maxFailures: 2, devicesPerPrefix: 2})
    fail(throttle, 'fd00:1::20')
    fail(throttle, 'fd00:1::21')
    expect(succeed(throttle, 'fd00:1::11')).toEqual({verdict: 'verified'})
    fail(throttle, 'fd00:1::22')
    expect(fail(throttle, 'fd00:1::23')).toMatchObject({failures: 1})
    expect(throttle.admit('fd00:1::11')).toEqual({verdict: 'locked-out', retryAfterSeconds: 60})
  })

  it('answers the later of the two lockouts to an address locked out inside a locked prefix', () => {
    const {throttle, clock} = lanThrottle({maxFailures: 2, devicesPerPrefix: 2})
    fail(throttle, 'fd00:1::10')
    fail(throttle, 'fd00:1::10')
    clock.advance(30_000)
    fail(throttle, 'fd00:1::20')
    expect(throttle.admit('fd00:1::10')).toEqual({verdict: 'locked-out', retryAfterSeconds: 30})
    fail(throttle, 'fd00:1::21')
    expect(throttle.admit('fd00:1::10')).toEqual({verdict: 'locked-out', retryAfterSeconds: 60})
    expect(throttle.admit('fd00:1::21')).toEqual({verdict: 'locked-out', retryAfterSeconds: 60})
  })

  it('refuses a locked prefix’s new addresses without tracking them, so a rotator cannot grow the table', () => {
    const {throttle} = lanThrottle({maxFailures: 1, devicesPerPrefix: 3})
    for (let guess = 0; guess < 3; guess++) fail(throttle, `fd00:1::${guess + 1}`)
    const tracked = throttle.trackedClients
    for (let rotation = 0; rotation < 1000; rotation++)
      expect(throttle.admit(`fd00:1::1:${rotation.toString(16)}`).verdict).toBe('locked-out')
    expect(throttle.trackedClients).toBe(tracked)
    expect(throttle.trackedPrefixes).toBe(1)
  })

  it('answers the prefix’s checks still waiting with 429, without hashing them, once it is locked out', async () => {
    const {throttle} = lanThrottle({maxFailures: 5, devicesPerPrefix: 1, hashingSlots: 1})
    for (let guess = 0; guess < 4; guess++) fail(throttle, `fd00:1::${guess + 1}`)
    const running = hashedCheck('fd00:1::20 guess')
    const waiting = hashedCheck('fd00:1::21 right, as it turns out')
    const runningResult = attempt(throttle, 'fd00:1::20', running.check)
    const waitingResult = attempt(throttle, 'fd00:1::21', waiting.check)
    running.finish(false)
    expect(await runningResult).toMatchObject({verdict: 'rejected', prefix: {lockedForSeconds: 60}})
    expect(await waitingResult).toEqual({verdict: 'locked-out', retryAfterSeconds: 60})
    expect(waiting.calls.hashes).toBe(0)
  })

  it('answers 429 to a check that finishes after its prefix was locked out, even a right one', async () => {
    const {throttle} = lanThrottle({maxFailures: 5, devicesPerPrefix: 1, hashingSlots: 2})
    for (let guess = 0; guess < 4; guess++) fail(throttle, `fd00:1::${guess + 1}`)
    const right = hashedCheck('right, as it turns out')
    const wrong = hashedCheck('wrong')
    const rightResult = attempt(throttle, 'fd00:1::20', right.check)
    const wrongResult = attempt(throttle, 'fd00:1::21', wrong.check)
    await settle()
    expect([right.calls.hashes, wrong.calls.hashes]).toEqual([1, 1])
    expect(attempt(throttle, 'fd00:1::22', knownCheck(false))).toMatchObject({prefix: {lockedForSeconds: 60}})
    wrong.finish(false)
    right.finish(true)
    expect(await wrongResult).toEqual({verdict: 'locked-out', retryAfterSeconds: 60})
    expect(await rightResult).toEqual({verdict: 'locked-out', retryAfterSeconds: 60})
  })

  it('notices a LAN prefix that appears later, once the prefixes it read are ownPrefixesMs old', () => {
    const {throttle, clock, own} = lanThrottle({maxFailures: 2, ownPrefixesMs: 5_000})
    fail(throttle, 'fd00:7::10')
    fail(throttle, 'fd00:7::10')
    own.prefixes = ['fd00:1::1/64', 'fd00:7::1/64']
    expect(throttle.admit('fd00:7::11').verdict).toBe('locked-out')
    clock.advance(5_000)
    expect(throttle.admit('fd00:7::11').verdict).toBe('admitted')
    expect(throttle.admit('fd00:7::10').verdict).toBe('admitted')
  })
})

describe('LoginThrottle', () => {
  it('locks a client out after the maximum failures, with Retry-After, and lets it try again later', async () => {
    const clock = fakeClock()
    const throttle = new LoginThrottle({maxFailures: 3, lockoutMs: 60_000, now: clock.now})
    expect(fail(throttle, 'a')).toEqual({failures: 1, lockedForSeconds: undefined})
    expect(fail(throttle, 'a')).toEqual({failures: 2, lockedForSeconds: undefined})
    expect(fail(throttle, 'a')).toEqual({failures: 0, lockedForSeconds: 60})
    expect(throttle.admit('a')).toEqual({verdict: 'locked-out', retryAfterSeconds: 60})
    clock.advance(30_000)
    expect(throttle.admit('a')).toEqual({verdict: 'locked-out', retryAfterSeconds: 30})
    clock.advance(30_001)
    expect(throttle.admit('a').verdict).toBe('admitted')
  })

  it('doubles each further lockout up to the maximum, and never bans for good', async () => {
    const clock = fakeClock()
    const throttle = new LoginThrottle({
      maxFailures: 1,
      lockoutMs: 60_000,
      maxLockoutMs: 200_000,
      now: clock.now,
    })
    const lockouts: (number | undefined)[] = []
    for (let round = 0; round < 5; round++) {
      const result = fail(throttle, 'a')
      lockouts.push('lockedForSeconds' in result ? result.lockedForSeconds : undefined)
      clock.advance(200_001)
    }
    expect(lockouts).toEqual([60, 120, 200, 200, 200])
  })

  it('forgets a client after a window without failures', async () => {
    const clock = fakeClock()
    const throttle = new LoginThrottle({maxFailures: 1, lockoutMs: 60_000, windowMs: 900_000, now: clock.now})
    fail(throttle, 'a')
    clock.advance(120_000 + 900_001)
    expect(fail(throttle, 'a')).toEqual({failures: 0, lockedForSeconds: 60})
  })

  it('resets a client on a success below the limit, and never tracks clients that only succeed', () => {
    const throttle = new LoginThrottle({maxFailures: 3})
    fail(throttle, 'a')
    fail(throttle, 'a')
    expect(succeed(throttle, 'a')).toEqual({verdict: 'verified'})
    expect(fail(throttle, 'a')).toEqual({failures: 1, lockedForSeconds: undefined})
    expect(succeed(throttle, 'b')).toEqual({verdict: 'verified'})
    expect(throttle.trackedClients).toBe(1)
  })

  it('keeps other clients untouched while one is locked out', async () => {
    const throttle = new LoginThrottle({maxFailures: 2})
    fail(throttle, 'attacker')
    fail(throttle, 'attacker')
    expect(throttle.admit('attacker').verdict).toBe('locked-out')
    expect(throttle.admit('neighbour').verdict).toBe('admitted')
  })

  it('answers a request that needs no hashing at once, without a promise, even beside a pending check', () => {
    const throttle = new LoginThrottle({maxFailures: 5})
    const pending = hashedCheck('wrong')
    expect(attempt(throttle, 'a', pending.check)).toBeInstanceOf(Promise)
    expect(attempt(throttle, 'a', hashedCheck('right', {cached: true}).check)).toEqual({verdict: 'verified'})
    expect(fail(throttle, 'a')).toEqual({failures: 1, lockedForSeconds: undefined})
  })

  it('makes a request that could cross the limit wait its turn behind the client’s check, before the cache is consulted', async () => {
    const throttle = new LoginThrottle({maxFailures: 2})
    fail(throttle, 'a')
    const first = hashedCheck('first guess')
    const firstResult = attempt(throttle, 'a', first.check)
    const cached = hashedCheck('cached', {cached: true})
    const cachedResult = attempt(throttle, 'a', cached.check)
    expect(cachedResult).toBeInstanceOf(Promise)
    await settle()
    expect(cached.calls.lookups).toBe(0)
    first.finish(false)
    expect(await firstResult).toEqual({verdict: 'rejected', failures: 0, lockedForSeconds: 60})
    expect(await cachedResult).toEqual({verdict: 'locked-out', retryAfterSeconds: 60})
    expect(cached.calls).toEqual({lookups: 0, hashes: 0})
  })

  it('lets a waiting request through, from the cache, when the check before it succeeds', async () => {
    const throttle = new LoginThrottle({maxFailures: 2})
    fail(throttle, 'a')
    const first = hashedCheck('first')
    const firstResult = attempt(throttle, 'a', first.check)
    const cached = hashedCheck('cached', {cached: true})
    const cachedResult = attempt(throttle, 'a', cached.check)
    await settle()
    first.finish(true)
    expect(await firstResult).toEqual({verdict: 'verified'})
    expect(await cachedResult).toEqual({verdict: 'verified'})
    expect(cached.calls).toEqual({lookups: 1, hashes: 0})
    expect(throttle.trackedClients).toBe(0)
  })

  it('bounds its memory, forgetting the least recently seen idle clients', async () => {
    const throttle = new LoginThrottle({maxFailures: 100, maxClients: 50})
    for (let client = 0; client < 500; client++) fail(throttle, `10.0.${client >> 8}.${client & 255}`)
    expect(throttle.trackedClients).toBeLessThanOrEqual(50)
  })
})

describe('LoginThrottle when its table is full', () => {
  it('forgets a client whose failures have expired before one with failures, even one seen less recently', async () => {
    const clock = fakeClock()
    const throttle = new LoginThrottle({maxFailures: 5, windowMs: 60_000, maxClients: 2, now: clock.now})
    fail(throttle, 'expired')
    clock.advance(30_000)
    fail(throttle, 'recent')
    clock.advance(1)
    fail(throttle, 'expired')
    clock.advance(30_000)
    expect(fail(throttle, 'newcomer')).toEqual({failures: 1, lockedForSeconds: undefined})
    expect(fail(throttle, 'recent')).toEqual({failures: 2, lockedForSeconds: undefined})
    expect(throttle.trackedClients).toBe(2)
  })

  it('forgets the least recently seen client with failures when every client has some', async () => {
    const throttle = new LoginThrottle({maxFailures: 5, maxClients: 2})
    fail(throttle, 'first')
    fail(throttle, 'second')
    fail(throttle, 'third')
    expect(fail(throttle, 'second')).toEqual({failures: 2, lockedForSeconds: undefined})
    expect(fail(throttle, 'third')).toEqual({failures: 2, lockedForSeconds: undefined})
    expect(throttle.trackedClients).toBe(2)
  })

  it('never forgets a locked-out client: a new client is refused, untracked, until a lockout and its window expire', async () => {
    const clock = fakeClock()
    const throttle = new LoginThrottle({
      maxFailures: 1,
      lockoutMs: 60_000,
      windowMs: 900_000,
      maxClients: 2,
      now: clock.now,
    })
    fail(throttle, 'attacker 1')
    fail(throttle, 'attacker 2')
    for (let rotation = 3; rotation < 100; rotation++) {
      expect(throttle.admit(`attacker ${rotation}`)).toEqual({
        verdict: 'no-room',
        retryAfterSeconds: 901,
      })
    }
    expect(throttle.trackedClients).toBe(2)
    expect(throttle.admit('attacker 1')).toEqual({verdict: 'locked-out', retryAfterSeconds: 60})
    clock.advance(900_001)
    expect(fail(throttle, 'attacker 3')).toEqual({failures: 0, lockedForSeconds: 60})
    expect(throttle.trackedClients).toBe(2)
  })

  it('keeps a client whose lockout has ended while its strikes still count, so its next lockout still doubles', async () => {
    const clock = fakeClock()
    const throttle = new LoginThrottle({
      maxFailures: 1,
      lockoutMs: 1_000,
      windowMs: 60_000,
      maxClients: 2,
      now: clock.now,
    })
    fail(throttle, 'a')
    fail(throttle, 'b')
    clock.advance(2_000)
    expect(throttle.admit('c')).toEqual({verdict: 'no-room', retryAfterSeconds: 59})
    expect(fail(throttle, 'a')).toEqual({failures: 0, lockedForSeconds: 2})
  })

  it('never forgets a client with a check pending, and stays within its bound', async () => {
    const throttle = new LoginThrottle({maxClients: 1})
    const checking = hashedCheck('guess')
    const result = attempt(throttle, 'a', checking.check)
    expect(throttle.admit('b')).toEqual({verdict: 'no-room', retryAfterSeconds: 1})
    expect(throttle.trackedClients).toBe(1)
    checking.finish(false)
    expect(await result).toEqual({verdict: 'rejected', failures: 1, lockedForSeconds: undefined})
    expect(fail(throttle, 'b')).toEqual({failures: 1, lockedForSeconds: undefined})
    expect(throttle.trackedClients).toBe(1)
  })
})

describe('LoginThrottle scheduling checks that need hashing', () => {
  it('gives each client one check at a time: A’s second waits behind its first, and B’s first goes before it', async () => {
    const throttle = new LoginThrottle({hashingSlots: 1})
    const a1 = hashedCheck('a1')
    const a2 = hashedCheck('a2')
    const b1 = hashedCheck('b1')
    const results = [a1, a2].map(({check}) => attempt(throttle, 'A', check))
    results.push(attempt(throttle, 'B', b1.check))
    expect([a1.calls.hashes, a2.calls.hashes, b1.calls.hashes]).toEqual([1, 0, 0])
    a1.finish(false)
    await settle()
    expect([a2.calls.hashes, b1.calls.hashes]).toEqual([0, 1])
    b1.finish(false)
    await settle()
    expect(a2.calls.hashes).toBe(1)
    a2.finish(true)
    expect(await Promise.all(results)).toEqual([
      {verdict: 'rejected', failures: 1, lockedForSeconds: undefined},
      {verdict: 'verified'},
      {verdict: 'rejected', failures: 1, lockedForSeconds: undefined},
    ])
  })

  it('makes parallel requests with the same credentials share one check: one hash, one failure', async () => {
    const throttle = new LoginThrottle()
    const first = hashedCheck('same pair')
    const copies = Array.from({length: 4}, () => hashedCheck('same pair'))
    const results = [first, ...copies].map(({check}) => attempt(throttle, 'A', check))
    first.finish(false)
    const settled = await Promise.all(results)
    expect(new Set(settled.map((result) => JSON.stringify(result)))).toEqual(
      new Set([JSON.stringify({verdict: 'rejected', failures: 1, lockedForSeconds: undefined})]),
    )
    expect(first.calls.hashes + copies.reduce((sum, copy) => sum + copy.calls.hashes, 0)).toBe(1)
    expect(copies.every((copy) => copy.calls.lookups === 0)).toBe(true)
  })

  it('refuses other credentials beyond the client’s line as busy, counted as failures, until the client is locked out without a hash', async () => {
    const throttle = new LoginThrottle({hashingSlots: 1, waitingPerClient: 1, maxFailures: 5})
    const blocker = hashedCheck('another client, never finished')
    void attempt(throttle, 'X', blocker.check)
    const queued = [hashedCheck('guess 1'), hashedCheck('guess 2')]
    const queuedResults = queued.map(({check}) => attempt(throttle, 'A', check))
    const refusals: (LoginResult | Promise<LoginResult>)[] = []
    for (let guess = 3; guess <= 7; guess++)
      refusals.push(attempt(throttle, 'A', hashedCheck(`guess ${guess}`).check))
    expect(refusals).toEqual([
      {verdict: 'busy', retryAfterSeconds: 1, failures: 1, lockedForSeconds: undefined},
      {verdict: 'busy', retryAfterSeconds: 1, failures: 2, lockedForSeconds: undefined},
      {verdict: 'busy', retryAfterSeconds: 1, failures: 3, lockedForSeconds: undefined},
      {verdict: 'busy', retryAfterSeconds: 1, failures: 4, lockedForSeconds: undefined},
      {verdict: 'busy', retryAfterSeconds: 60, failures: 0, lockedForSeconds: 60},
    ])
    expect(await Promise.all(queuedResults)).toEqual([
      {verdict: 'locked-out', retryAfterSeconds: 60},
      {verdict: 'locked-out', retryAfterSeconds: 60},
    ])
    const afterwards = hashedCheck('right', {cached: true})
    expect(attempt(throttle, 'A', afterwards.check)).toEqual({verdict: 'locked-out', retryAfterSeconds: 60})
    expect(queued.map(({calls}) => calls.hashes)).toEqual([0, 0])
    expect(afterwards.calls).toEqual({lookups: 0, hashes: 0})
    expect(throttle.admit('B').verdict).toBe('admitted')
  })

  it('answers 429 to a check that finishes after its client was locked out, even a right one', async () => {
    const throttle = new LoginThrottle({maxFailures: 1, waitingPerClient: 0})
    const running = hashedCheck('right, as it turns out')
    const result = attempt(throttle, 'A', running.check)
    expect(attempt(throttle, 'A', hashedCheck('another').check)).toMatchObject({
      verdict: 'busy',
      lockedForSeconds: 60,
    })
    running.finish(true)
    expect(await result).toEqual({verdict: 'locked-out', retryAfterSeconds: 60})
  })

  it('answers a cached login at once while every hashing slot is taken by checks that never finish', () => {
    const throttle = new LoginThrottle({hashingSlots: 2})
    for (const client of ['X', 'Y', 'Z']) void attempt(throttle, client, hashedCheck(`${client} guess`).check)
    expect(attempt(throttle, 'rightful', hashedCheck('right', {cached: true}).check)).toEqual({
      verdict: 'verified',
    })
    expect(attempt(throttle, 'X', hashedCheck('right', {cached: true}).check)).toEqual({verdict: 'verified'})
  })

  it('refuses a new client’s check, uncounted, while too many clients wait for hashing', async () => {
    const throttle = new LoginThrottle({hashingSlots: 1, maxClientsHashing: 2})
    const first = hashedCheck('A guess')
    const results = [
      attempt(throttle, 'A', first.check),
      attempt(throttle, 'B', hashedCheck('B guess').check),
    ]
    expect(attempt(throttle, 'C', hashedCheck('C login').check)).toEqual({
      verdict: 'hashing-full',
      retryAfterSeconds: 1,
    })
    expect(throttle.trackedClients).toBe(2)
    first.finish(false)
    await results[0]
    const later = hashedCheck('C login')
    const laterResult = attempt(throttle, 'C', later.check)
    expect(laterResult).toBeInstanceOf(Promise)
    expect(fail(throttle, 'C')).toEqual({failures: 1, lockedForSeconds: undefined})
  })
})

describe('LoginThrottle ordering checks for hashing by failures', () => {
  /**
   * One hashing slot, lockouts after 10 failures unless `options` say otherwise, a fake clock; `blocker`'s
   * check holds the slot until the test finishes it, so the others queue up behind it.
   */
  function queuedThrottle(options: Partial<ThrottleOptions> = {}) {
    const clock = fakeClock()
    const throttle = new LoginThrottle({
      hashingSlots: 1,
      maxFailures: 10,
      lockoutMs: 60_000,
      windowMs: 900_000,
      now: clock.now,
      ...options,
    })
    const started: string[] = []
    const checks = new Map<string, ReturnType<typeof hashedCheck>>()
    /** `client` sends credentials that need hashing; the check is named after the client. */
    const send = (client: string) => {
      const hashed = hashedCheck(client, {started})
      checks.set(client, hashed)
      return attempt(throttle, client, hashed.check)
    }
    /** Fails `client`'s check in progress (or passes it), and lets the next one start. */
    const finish = async (client: string, verified = false) => {
      checks.get(client)!.finish(verified)
      await settle()
    }
    const failures = (client: string, count: number) => {
      for (let failure = 0; failure < count; failure++) fail(throttle, client)
    }
    void send('blocker')
    return {throttle, clock, started, send, finish, failures}
  }

  it('hashes a first login that has never failed before the checks of clients with failures that came before it', async () => {
    const {started, send, finish, failures} = queuedThrottle()
    failures('guesser 1', 4)
    failures('guesser 2', 2)
    void send('guesser 1')
    void send('guesser 2')
    const login = send('newcomer')
    await finish('blocker')
    expect(started).toEqual(['blocker', 'newcomer'])
    await finish('newcomer', true)
    expect(await login).toEqual({verdict: 'verified'})
    expect(started).toEqual(['blocker', 'newcomer', 'guesser 2'])
  })

  it('hashes a user who mistyped once before guessers with more failures that came before it', async () => {
    const {started, send, finish, failures} = queuedThrottle()
    failures('guesser', 3)
    failures('mistyped', 1)
    void send('guesser')
    void send('mistyped')
    await finish('blocker')
    await finish('mistyped')
    expect(started).toEqual(['blocker', 'mistyped', 'guesser'])
  })

  it('hashes clients with as many failures in the order they came', async () => {
    const {started, send, finish, failures} = queuedThrottle()
    for (const client of ['third', 'first', 'second']) failures(client, 2)
    for (const client of ['first', 'second', 'third']) void send(client)
    for (const client of ['blocker', 'first', 'second']) await finish(client)
    expect(started).toEqual(['blocker', 'first', 'second', 'third'])
  })

  it('orders by the failures when a slot frees: a client refused as busy while it waits falls behind', async () => {
    const {throttle, started, send, finish} = queuedThrottle({waitingPerClient: 0})
    const waiting = send('came first')
    void send('came second')
    expect(attempt(throttle, 'came first', hashedCheck('another guess').check)).toMatchObject({
      verdict: 'busy',
      failures: 1,
    })
    await finish('blocker')
    await finish('came second')
    expect(started).toEqual(['blocker', 'came second', 'came first'])
    await finish('came first')
    expect(await waiting).toMatchObject({verdict: 'rejected', failures: 2})
  })

  it('keeps a guesser whose lockout has ended behind a first login, until a window without failures forgets it', async () => {
    const {clock, started, send, finish, failures} = queuedThrottle({maxFailures: 3})
    failures('returning', 3)
    clock.advance(60_001)
    void send('returning')
    void send('newcomer')
    await finish('blocker')
    expect(started).toEqual(['blocker', 'newcomer'])
    await finish('newcomer', true)
    await finish('returning')

    clock.advance(900_001)
    void send('blocker')
    void send('returning')
    void send('later newcomer')
    await finish('blocker')
    expect(started.slice(3)).toEqual(['blocker', 'returning'])
  })

  it('withdraws the waiting check of a client locked out while it waits, unhashed, and hashes the next in order', async () => {
    const {throttle, started, send, finish, failures} = queuedThrottle({maxFailures: 2, waitingPerClient: 0})
    failures('guesser', 1)
    failures('mistyped', 1)
    const guess = send('guesser')
    void send('mistyped')
    expect(attempt(throttle, 'guesser', hashedCheck('another guess').check)).toMatchObject({
      verdict: 'busy',
      lockedForSeconds: 60,
    })
    expect(await guess).toEqual({verdict: 'locked-out', retryAfterSeconds: 60})
    await finish('blocker')
    expect(started).toEqual(['blocker', 'mistyped'])
  })
})

describe('LoginThrottle lockouts and unlock', () => {
  /** maxFailures 2, lockouts of 60 s, on the LAN fd00:1::/64 (a prefix budget of 2 × 2). */
  function throttleWithClock() {
    const clock = fakeClock()
    const throttle = new LoginThrottle({
      maxFailures: 2,
      devicesPerPrefix: 2,
      lockoutMs: 60_000,
      windowMs: 900_000,
      now: clock.now,
      ownPrefixes: () => ['fd00:1::1/64'],
    })
    return {throttle, clock}
  }

  it('lists each locked-out client and LAN prefix with when, until when, after how many failures, and nothing else', () => {
    const {throttle, clock} = throttleWithClock()
    const start = clock.now()
    fail(throttle, '192.0.2.7')
    fail(throttle, '192.0.2.7')
    clock.advance(60_001)
    fail(throttle, '192.0.2.7')
    clock.advance(1000)
    fail(throttle, '192.0.2.7')
    fail(throttle, '2001:db8:1:2::7')
    fail(throttle, '2001:db8:1:2::8')
    fail(throttle, 'fd00:1::10')
    fail(throttle, 'fd00:1::11')
    fail(throttle, 'fd00:1::12')
    fail(throttle, 'fd00:1::13')
    fail(throttle, '192.0.2.99')
    const second = start + 61_001
    expect(throttle.lockouts()).toEqual([
      {
        client: 'fd00:1::/64',
        kind: 'lan-prefix',
        lockedAt: second,
        lockedUntil: second + 60_000,
        failures: 4,
        lockouts: 1,
      },
      {
        client: '192.0.2.7',
        kind: 'address',
        lockedAt: second,
        lockedUntil: second + 120_000,
        failures: 4,
        lockouts: 2,
      },
      {
        client: '2001:db8:1:2::/64',
        kind: 'network',
        lockedAt: second,
        lockedUntil: second + 60_000,
        failures: 2,
        lockouts: 1,
      },
    ])
    expect(throttle.trackedClients).toBe(7)
    clock.advance(60_000)
    expect(throttle.lockouts().map((lockout) => lockout.client)).toEqual(['192.0.2.7'])
  })

  it('lets a locked-out address in at once, with its strikes forgotten, and leaves other lockouts alone', () => {
    const {throttle} = throttleWithClock()
    for (const address of ['192.0.2.7', '192.0.2.7', '192.0.2.8', '192.0.2.8']) fail(throttle, address)
    expect(throttle.unlock('192.0.2.7')).toEqual({
      client: '192.0.2.7',
      unlocked: true,
      lockedPrefix: undefined,
    })
    expect(succeed(throttle, '192.0.2.7')).toEqual({verdict: 'verified'})
    expect(fail(throttle, '192.0.2.7')).toEqual({failures: 1, lockedForSeconds: undefined})
    expect(throttle.admit('192.0.2.8').verdict).toBe('locked-out')
    expect(throttle.lockouts().map((lockout) => lockout.client)).toEqual(['192.0.2.8'])
  })

  it('maps an IPv6 address to its /64, or to itself on the LAN, and takes a /64 as lockouts lists it', () => {
    const {throttle} = throttleWithClock()
    fail(throttle, '2001:db8:1:2::7')
    fail(throttle, '2001:db8:1:2::8')
    expect(throttle.unlock('2001:db8:1:2:aaaa::1')).toMatchObject({
      client: '2001:db8:1:2::/64',
      unlocked: true,
    })
    expect(throttle.admit('2001:db8:1:2::7').verdict).toBe('admitted')
    fail(throttle, '2001:db8:1:2::7')
    fail(throttle, '2001:db8:1:2::7')
    expect(throttle.unlock('2001:db8:1:2::/64')).toMatchObject({client: '2001:db8:1:2::/64', unlocked: true})
    fail(throttle, 'fd00:1::10')
    fail(throttle, 'fd00:1::10')
    expect(throttle.unlock('fd00:1::10')).toEqual({
      client: 'fd00:1::10',
      unlocked: true,
      lockedPrefix: undefined,
    })
    expect(throttle.admit('fd00:1::10').verdict).toBe('admitted')
  })

  it('unlocks a LAN prefix, and names it when an address is unlocked while its prefix still refuses it', () => {
    const {throttle} = throttleWithClock()
    for (const address of ['fd00:1::10', 'fd00:1::10', 'fd00:1::11', 'fd00:1::12']) fail(throttle, address)
    expect(throttle.unlock('fd00:1::10')).toEqual({
      client: 'fd00:1::10',
      unlocked: true,
      lockedPrefix: 'fd00:1::/64',
    })
    expect(throttle.admit('fd00:1::10').verdict).toBe('locked-out')
    expect(throttle.unlock('fd00:1::/64')).toEqual({
      client: 'fd00:1::/64',
      unlocked: true,
      lockedPrefix: undefined,
    })
    expect(throttle.admit('fd00:1::10').verdict).toBe('admitted')
    expect(throttle.trackedPrefixes).toBe(0)
  })

  it('says nothing was unlocked for a client it does not know, or one below the limit, and tracks none', () => {
    const {throttle} = throttleWithClock()
    expect(throttle.unlock('192.0.2.1')).toEqual({
      client: '192.0.2.1',
      unlocked: false,
      lockedPrefix: undefined,
    })
    fail(throttle, '192.0.2.2')
    expect(throttle.unlock('192.0.2.2')).toMatchObject({unlocked: false})
    expect(throttle.trackedClients).toBe(0)
  })

  it('says whether an address is locked out, by itself or its LAN prefix, and whom it counts against, tracking none', () => {
    const {throttle, clock} = throttleWithClock()
    fail(throttle, '192.0.2.7')
    expect(throttle.isLockedOut('192.0.2.7')).toBe(false)
    fail(throttle, '192.0.2.7')
    for (const address of ['fd00:1::10', 'fd00:1::11', 'fd00:1::12', 'fd00:1::13']) fail(throttle, address)
    const tracked = throttle.trackedClients
    expect(['192.0.2.7', 'fd00:1::99', '192.0.2.8'].map((address) => throttle.isLockedOut(address))).toEqual([
      true,
      true,
      false,
    ])
    expect(
      ['192.0.2.7', 'fd00:1::99', '2001:db8:1:2::7'].map((address) => throttle.clientOf(address)),
    ).toEqual(['192.0.2.7', 'fd00:1::99', '2001:db8:1:2::/64'])
    expect(throttle.trackedClients).toBe(tracked)
    clock.advance(60_001)
    expect(throttle.isLockedOut('192.0.2.7')).toBe(false)
  })
})

describe('parseClientTarget', () => {
  it('writes addresses and prefixes as the throttle keys them, and refuses anything else', () => {
    expect(parseClientTarget('192.0.2.7')).toBe('192.0.2.7')
    expect(parseClientTarget('::FFFF:192.0.2.7')).toBe('192.0.2.7')
    expect(parseClientTarget('2001:DB8:0:0::7')).toBe('2001:db8::7')
    expect(parseClientTarget('2001:db8:1:2::/64')).toBe('2001:db8:1:2::/64')
    expect(parseClientTarget('fd00:1::5/64')).toBe('fd00:1::/64')
    for (const bad of ['', 'localhost', '192.0.2.0/24', '192.0.2.256', '2001:db8::/129', 'unknown'])
      expect(parseClientTarget(bad), bad).toBeUndefined()
  })
})

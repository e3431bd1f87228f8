import {describe, expect, it} from 'vitest'

import {ConcurrencyLimiter, VerifierBusyError} from '../../src/credentials/limiter.js'
import {clientKey, LoginThrottle, type Admission} from '../../src/server/throttle.js'

function fakeClock(start = 1_000_000) {
  let now = start
  return {now: () => now, advance: (ms: number) => (now += ms)}
}

async function fail(throttle: LoginThrottle, key: string) {
  const admission = await throttle.admit(key)
  if (admission.verdict !== 'admitted') return admission
  return admission.settle('failure')
}

describe('clientKey', () => {
  it('keeps IPv4 addresses, unwraps IPv4-mapped ones, and groups IPv6 by /64', () => {
    expect(clientKey('192.168.1.20')).toBe('192.168.1.20')
    expect(clientKey('::ffff:192.168.1.20')).toBe('192.168.1.20')
    expect(clientKey('::FFFF:10.0.0.1')).toBe('10.0.0.1')
    expect(clientKey('2001:db8:1:2:aaaa:bbbb:cccc:dddd')).toBe('2001:db8:1:2::/64')
    expect(clientKey('2001:db8:1:2::5')).toBe('2001:db8:1:2::/64')
    expect(clientKey('2001:0db8:0001:0002::9')).toBe('2001:db8:1:2::/64')
    expect(clientKey('2001:db8::1')).toBe('2001:db8:0:0::/64')
    expect(clientKey('::1')).toBe('0:0:0:0::/64')
    expect(clientKey(undefined)).toBe('unknown')
  })
})

describe('LoginThrottle', () => {
  it('locks a client out after the maximum failures, with Retry-After, and lets it try again later', async () => {
    const clock = fakeClock()
    const throttle = new LoginThrottle({maxFailures: 3, lockoutMs: 60_000, now: clock.now})
    expect(await fail(throttle, 'a')).toEqual({failures: 1, lockedForSeconds: undefined})
    expect(await fail(throttle, 'a')).toEqual({failures: 2, lockedForSeconds: undefined})
    expect(await fail(throttle, 'a')).toEqual({failures: 0, lockedForSeconds: 60})
    expect(await throttle.admit('a')).toEqual({verdict: 'locked-out', retryAfterSeconds: 60})
    clock.advance(30_000)
    expect(await throttle.admit('a')).toEqual({verdict: 'locked-out', retryAfterSeconds: 30})
    clock.advance(30_001)
    expect((await throttle.admit('a')).verdict).toBe('admitted')
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
      const result = await fail(throttle, 'a')
      lockouts.push('lockedForSeconds' in result ? result.lockedForSeconds : undefined)
      clock.advance(200_001)
    }
    expect(lockouts).toEqual([60, 120, 200, 200, 200])
  })

  it('forgets a client after a window without failures', async () => {
    const clock = fakeClock()
    const throttle = new LoginThrottle({maxFailures: 1, lockoutMs: 60_000, windowMs: 900_000, now: clock.now})
    await fail(throttle, 'a')
    clock.advance(120_000 + 900_001)
    expect(await fail(throttle, 'a')).toEqual({failures: 0, lockedForSeconds: 60})
  })

  it('resets a client on a success below the limit, and never tracks clients that only succeed', async () => {
    const throttle = new LoginThrottle({maxFailures: 3})
    await fail(throttle, 'a')
    await fail(throttle, 'a')
    const admission = (await throttle.admit('a')) as Extract<Admission, {verdict: 'admitted'}>
    admission.settle('success')
    expect(await fail(throttle, 'a')).toEqual({failures: 1, lockedForSeconds: undefined})
    const good = (await throttle.admit('b')) as Extract<Admission, {verdict: 'admitted'}>
    good.settle('success')
    expect(throttle.trackedClients).toBe(1)
  })

  it('keeps other clients untouched while one is locked out', async () => {
    const throttle = new LoginThrottle({maxFailures: 2})
    await fail(throttle, 'attacker')
    await fail(throttle, 'attacker')
    expect((await throttle.admit('attacker')).verdict).toBe('locked-out')
    expect((await throttle.admit('neighbour')).verdict).toBe('admitted')
  })

  it('makes a request that could cross the limit wait for the client’s checks in flight', async () => {
    const throttle = new LoginThrottle({maxFailures: 2})
    const first = (await throttle.admit('a')) as Extract<Admission, {verdict: 'admitted'}>
    const second = (await throttle.admit('a')) as Extract<Admission, {verdict: 'admitted'}>
    let thirdDecided = false
    const third = throttle.admit('a').then((admission) => ((thirdDecided = true), admission))
    await new Promise((resolve) => setImmediate(resolve))
    expect(thirdDecided).toBe(false)
    first.settle('failure')
    second.settle('failure')
    expect(await third).toMatchObject({verdict: 'locked-out'})
  })

  it('lets waiting requests through when the checks in flight succeed', async () => {
    const throttle = new LoginThrottle({maxFailures: 2})
    const admissions = await Promise.all([throttle.admit('a'), throttle.admit('a')])
    const third = throttle.admit('a')
    for (const admission of admissions)
      (admission as Extract<Admission, {verdict: 'admitted'}>).settle('success')
    expect((await third).verdict).toBe('admitted')
  })

  it('bounds its memory, forgetting the least recently seen idle clients', async () => {
    const throttle = new LoginThrottle({maxFailures: 100, maxClients: 50})
    for (let client = 0; client < 500; client++) await fail(throttle, `10.0.${client >> 8}.${client & 255}`)
    expect(throttle.trackedClients).toBeLessThanOrEqual(50)
  })
})

describe('LoginThrottle when its table is full', () => {
  it('forgets a client whose failures have expired before one with failures, even one seen less recently', async () => {
    const clock = fakeClock()
    const throttle = new LoginThrottle({maxFailures: 5, windowMs: 60_000, maxClients: 2, now: clock.now})
    await fail(throttle, 'expired')
    clock.advance(30_000)
    await fail(throttle, 'recent')
    clock.advance(1)
    await fail(throttle, 'expired')
    clock.advance(30_000)
    expect(await fail(throttle, 'newcomer')).toEqual({failures: 1, lockedForSeconds: undefined})
    expect(await fail(throttle, 'recent')).toEqual({failures: 2, lockedForSeconds: undefined})
    expect(throttle.trackedClients).toBe(2)
  })

  it('forgets the least recently seen client with failures when every client has some', async () => {
    const throttle = new LoginThrottle({maxFailures: 5, maxClients: 2})
    await fail(throttle, 'first')
    await fail(throttle, 'second')
    await fail(throttle, 'third')
    expect(await fail(throttle, 'second')).toEqual({failures: 2, lockedForSeconds: undefined})
    expect(await fail(throttle, 'third')).toEqual({failures: 2, lockedForSeconds: undefined})
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
    await fail(throttle, 'attacker 1')
    await fail(throttle, 'attacker 2')
    for (let rotation = 3; rotation < 100; rotation++) {
      expect(await throttle.admit(`attacker ${rotation}`)).toEqual({
        verdict: 'no-room',
        retryAfterSeconds: 901,
      })
    }
    expect(throttle.trackedClients).toBe(2)
    expect(await throttle.admit('attacker 1')).toEqual({verdict: 'locked-out', retryAfterSeconds: 60})
    clock.advance(900_001)
    expect(await fail(throttle, 'attacker 3')).toEqual({failures: 0, lockedForSeconds: 60})
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
    await fail(throttle, 'a')
    await fail(throttle, 'b')
    clock.advance(2_000)
    expect(await throttle.admit('c')).toEqual({verdict: 'no-room', retryAfterSeconds: 59})
    expect(await fail(throttle, 'a')).toEqual({failures: 0, lockedForSeconds: 2})
  })

  it('never forgets a client with a check in flight, and stays within its bound', async () => {
    const throttle = new LoginThrottle({maxClients: 1})
    const checking = (await throttle.admit('a')) as Extract<Admission, {verdict: 'admitted'}>
    expect(await throttle.admit('b')).toEqual({verdict: 'no-room', retryAfterSeconds: 1})
    expect(throttle.trackedClients).toBe(1)
    checking.settle('failure')
    expect(await fail(throttle, 'b')).toEqual({failures: 1, lockedForSeconds: undefined})
    expect(throttle.trackedClients).toBe(1)
  })
})

describe('ConcurrencyLimiter', () => {
  it('runs at most maxConcurrent tasks, queues maxQueued, and refuses beyond', async () => {
    const limiter = new ConcurrencyLimiter(2, 3)
    let running = 0
    let peak = 0
    const releases: (() => void)[] = []
    const task = () =>
      new Promise<void>((resolve) => {
        running++
        peak = Math.max(peak, running)
        releases.push(() => {
          running--
          resolve()
        })
      })
    const accepted = Array.from({length: 5}, () => limiter.run(task))
    await expect(limiter.run(task)).rejects.toBeInstanceOf(VerifierBusyError)
    while (releases.length || running) {
      await new Promise((resolve) => setTimeout(resolve, 1))
      releases.shift()?.()
    }
    await Promise.all(accepted)
    expect(peak).toBe(2)
  })
})

import {createHook} from 'node:async_hooks'

import {beforeAll, describe, expect, it} from 'vitest'

import {VerifiedCredentialsCache} from '../../src/credentials/cache.js'
import {hashPassword} from '../../src/credentials/hash.js'
import {
  createHashedVerifier,
  type CredentialVerifier,
  type StoredCredentials,
} from '../../src/credentials/verifier.js'
import {cheapHashParams} from '../helpers/hashes.js'

const jeff = {username: 'JeffLynne', password: 'ELO'}

/** Checks a pair the way the throttle does with nothing else waiting: the cache, else the hash. */
async function verify(verifier: CredentialVerifier, candidate: typeof jeff): Promise<boolean> {
  const check = verifier.check(candidate)
  return check.answerAtOnce() ?? check.hash()
}

/** A clock the test moves by hand. */
function manualClock(start = 1_000_000) {
  let now = start
  return {now: () => now, advance: (ms: number) => void (now += ms)}
}

/**
 * Runs `work` and counts the scrypt computations it starts, without mocking anything: every call to
 * node:crypto's asynchronous scrypt creates an async resource of type SCRYPTREQUEST, which an
 * async hook observes. (Tests in one file run one at a time, so no other scrypt is counted.)
 */
async function countScrypt<T>(work: () => Promise<T>): Promise<{result: T; scrypts: number}> {
  let scrypts = 0
  const hook = createHook({
    init(_asyncId, type) {
      if (type === 'SCRYPTREQUEST') scrypts += 1
    },
  }).enable()
  try {
    const result = await work()
    return {result, scrypts}
  } finally {
    hook.disable()
  }
}

describe('VerifiedCredentialsCache', () => {
  it('holds a pair only once it was added', () => {
    const cache = new VerifiedCredentialsCache()
    expect(cache.has(cache.digest(jeff))).toBe(false)
    expect(cache.size).toBe(0)
    cache.add(cache.digest(jeff))
    expect(cache.has(cache.digest(jeff))).toBe(true)
    expect(cache.has(cache.digest({...jeff}))).toBe(true)
    expect(cache.size).toBe(1)
  })

  it('holds a pair only as long as ttlMs, by the injected clock', () => {
    const clock = manualClock()
    const cache = new VerifiedCredentialsCache({ttlMs: 1000, now: clock.now})
    cache.add(cache.digest(jeff))
    clock.advance(999)
    expect(cache.has(cache.digest(jeff))).toBe(true)
    clock.advance(1)
    expect(cache.has(cache.digest(jeff))).toBe(false)
    expect(cache.size).toBe(0)
  })

  it('restarts the time to live when a pair is added again', () => {
    const clock = manualClock()
    const cache = new VerifiedCredentialsCache({ttlMs: 1000, now: clock.now})
    cache.add(cache.digest(jeff))
    clock.advance(800)
    cache.add(cache.digest(jeff))
    clock.advance(800)
    expect(cache.has(cache.digest(jeff))).toBe(true)
    expect(cache.size).toBe(1)
  })

  it('evicts the oldest pair beyond maxEntries', () => {
    const cache = new VerifiedCredentialsCache({maxEntries: 2})
    const [first, second, third] = ['a', 'b', 'c'].map((password) => ({username: 'u', password}))
    cache.add(cache.digest(first!))
    cache.add(cache.digest(second!))
    cache.add(cache.digest(third!))
    expect(cache.size).toBe(2)
    expect(cache.has(cache.digest(first!))).toBe(false)
    expect(cache.has(cache.digest(second!))).toBe(true)
    expect(cache.has(cache.digest(third!))).toBe(true)
  })

  it('counts a pair added again as the newest, so it outlives older ones', () => {
    const cache = new VerifiedCredentialsCache({maxEntries: 2})
    const [first, second, third] = ['a', 'b', 'c'].map((password) => ({username: 'u', password}))
    cache.add(cache.digest(first!))
    cache.add(cache.digest(second!))
    cache.add(cache.digest(first!))
    cache.add(cache.digest(third!))
    expect(cache.has(cache.digest(first!))).toBe(true)
    expect(cache.has(cache.digest(second!))).toBe(false)
    expect(cache.has(cache.digest(third!))).toBe(true)
  })

  it('forgets every pair on clear()', () => {
    const cache = new VerifiedCredentialsCache()
    cache.add(cache.digest(jeff))
    cache.add(cache.digest({username: 'other', password: 'pw'}))
    cache.clear()
    expect(cache.size).toBe(0)
    expect(cache.has(cache.digest(jeff))).toBe(false)
  })

  it('does not confuse pairs whose concatenations are equal', () => {
    const cache = new VerifiedCredentialsCache()
    cache.add(cache.digest({username: 'ab', password: 'c'}))
    expect(cache.has(cache.digest({username: 'a', password: 'bc'}))).toBe(false)
    expect(cache.has(cache.digest({username: 'abc', password: ''}))).toBe(false)
    expect(cache.has(cache.digest({username: 'c', password: 'ab'}))).toBe(false)
    expect(cache.has(cache.digest({username: 'ab', password: 'c'}))).toBe(true)
  })

  it('does not hold a pair from another cache (each keys its entries with its own secret)', () => {
    const one = new VerifiedCredentialsCache()
    const other = new VerifiedCredentialsCache()
    one.add(one.digest(jeff))
    expect(other.has(other.digest(jeff))).toBe(false)
  })
})

describe('createHashedVerifier', () => {
  let stored: StoredCredentials

  beforeAll(async () => {
    stored = {
      name: jeff.username,
      passwordHash: await hashPassword(jeff.password, cheapHashParams),
    }
  })

  it('accepts the right pair and refuses a wrong user or a wrong password', async () => {
    const verifier = createHashedVerifier([stored], new VerifiedCredentialsCache())
    expect(await verify(verifier, jeff)).toBe(true)
    expect(await verify(verifier, {username: 'JeffLynn', password: 'ELO'})).toBe(false)
    expect(await verify(verifier, {username: 'JeffLynne', password: 'ELO '})).toBe(false)
    expect(await verify(verifier, {username: 'ELO', password: 'JeffLynne'})).toBe(false)
  })

  it('accepts the NFD form of a stored NFC user name', async () => {
    const verifier = createHashedVerifier([{...stored, name: 'Zoë'.normalize('NFC')}])
    expect(await verify(verifier, {username: 'Zoë'.normalize('NFD'), password: 'ELO'})).toBe(true)
  })

  it('caches a success and never a failure', async () => {
    const cache = new VerifiedCredentialsCache()
    const verifier = createHashedVerifier([stored], cache)
    expect(await verify(verifier, {username: 'someone', password: 'ELO'})).toBe(false)
    expect(await verify(verifier, {username: 'JeffLynne', password: 'wrong'})).toBe(false)
    expect(cache.size).toBe(0)
    expect(await verify(verifier, jeff)).toBe(true)
    expect(cache.size).toBe(1)
    expect(cache.has(cache.digest(jeff))).toBe(true)
  })

  it('hashes the password against the stored hash for an unknown user, as for a wrong password', async () => {
    const cache = new VerifiedCredentialsCache()
    const verifier = createHashedVerifier([stored], cache)
    const unknownUser = await countScrypt(() => verify(verifier, {username: 'someone', password: 'ELO'}))
    const wrongPassword = await countScrypt(() => verify(verifier, {username: 'JeffLynne', password: 'x'}))
    expect(unknownUser).toEqual({result: false, scrypts: 1})
    expect(wrongPassword).toEqual({result: false, scrypts: 1})
    expect(cache.size).toBe(0)
  })

  it('serves a cached success without hashing again', async () => {
    const cache = new VerifiedCredentialsCache()
    const verifier = createHashedVerifier([stored], cache)
    expect(await countScrypt(() => verify(verifier, jeff))).toEqual({result: true, scrypts: 1})
    expect(await countScrypt(() => verify(verifier, jeff))).toEqual({result: true, scrypts: 0})
    expect(cache.size).toBe(1)
  })

  it('hashes again once the cached success has expired', async () => {
    const clock = manualClock()
    const cache = new VerifiedCredentialsCache({ttlMs: 1000, now: clock.now})
    const verifier = createHashedVerifier([stored], cache)
    expect(await verify(verifier, jeff)).toBe(true)
    clock.advance(1000)
    expect(await countScrypt(() => verify(verifier, jeff))).toEqual({result: true, scrypts: 1})
  })

  it('answers a cached pair at once, whichever Unicode form it comes in, and gives equal pairs one digest', async () => {
    const verifier = createHashedVerifier([{...stored, name: 'Zoë'.normalize('NFC')}])
    const nfc = {username: 'Zoë'.normalize('NFC'), password: 'ELO'}
    const nfd = {username: 'Zoë'.normalize('NFD'), password: 'ELO'}
    expect(verifier.check(nfd).digest).toBe(verifier.check(nfc).digest)
    expect(verifier.check(nfc).digest).not.toBe(verifier.check({...nfc, password: 'ELO '}).digest)
    expect(verifier.check(nfc).answerAtOnce()).toBeUndefined()
    expect(await verifier.check(nfd).hash()).toBe(true)
    expect(verifier.check(nfc).answerAtOnce()).toBe(true)
    expect(verifier.check({...nfc, password: 'wrong'}).answerAtOnce()).toBeUndefined()
  })
})

describe('createHashedVerifier with several users', () => {
  const bev = {username: 'Bev', password: 'Bevan on cello'}
  let users: StoredCredentials[]

  beforeAll(async () => {
    users = [
      {name: jeff.username, passwordHash: await hashPassword(jeff.password, cheapHashParams)},
      {name: bev.username, passwordHash: await hashPassword(bev.password, cheapHashParams)},
    ]
  })

  it('accepts each user with their own password, and neither with the other one’s', async () => {
    const verifier = createHashedVerifier(users)
    expect(await verify(verifier, jeff)).toBe(true)
    expect(await verify(verifier, bev)).toBe(true)
    expect(await verify(verifier, {username: jeff.username, password: bev.password})).toBe(false)
    expect(await verify(verifier, {username: bev.username, password: jeff.password})).toBe(false)
  })

  it('hashes exactly once for an unknown user, for a wrong password and for a right one, whichever user', async () => {
    const verifier = createHashedVerifier(users, new VerifiedCredentialsCache())
    const attempts = [
      {username: 'Richard', password: 'ELO'},
      {username: 'Richard', password: bev.password},
      {username: bev.username, password: 'wrong'},
      {username: jeff.username, password: 'wrong'},
    ]
    for (const attempt of attempts) {
      expect(await countScrypt(() => verify(verifier, attempt))).toEqual({result: false, scrypts: 1})
    }
    expect(await countScrypt(() => verify(verifier, bev))).toEqual({result: true, scrypts: 1})
  })

  it('never admits an unknown user, whatever the password', async () => {
    const verifier = createHashedVerifier(users)
    for (const password of [jeff.password, bev.password, '']) {
      expect(await verify(verifier, {username: 'Richard', password})).toBe(false)
    }
  })

  it('starts with an empty cache unless given one: a rebuilt verifier forgets a removed user at once', async () => {
    const before = createHashedVerifier(users)
    expect(await verify(before, bev)).toBe(true)
    expect(before.check(bev).answerAtOnce()).toBe(true)
    const after = createHashedVerifier(users.filter((user) => user.name !== bev.username))
    expect(after.check(bev).answerAtOnce()).toBeUndefined()
    expect(await verify(after, bev)).toBe(false)
    expect(await verify(after, jeff)).toBe(true)
  })

  it('refuses to be made without users', () => {
    expect(() => createHashedVerifier([])).toThrow(/at least one user/)
  })
})

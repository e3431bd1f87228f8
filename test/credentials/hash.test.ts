import fc from 'fast-check'
import {describe, expect, it} from 'vitest'

import {
  defaultParams,
  dummyPasswordHash,
  hashPassword,
  parsePasswordHash,
  verifyPassword,
} from '../../src/credentials/hash.js'
import {cheapHashParams} from '../helpers/hashes.js'

/** Base64 without padding of 16 and 32 bytes: a well-formed salt and hash. */
const salt = 'c2FsdHNhbHRzYWx0c2FsdA'
const digest = 'aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaGhhc2g'
const phc = (params: string) => `$scrypt$${params}$${salt}$${digest}`

describe('hashPassword', () => {
  it('writes a PHC string with the default parameters, which verifies the password', async () => {
    expect(defaultParams).toEqual({logN: 15, r: 8, p: 3})
    const encoded = await hashPassword('correct horse battery staple')
    expect(encoded).toMatch(/^\$scrypt\$ln=15,r=8,p=3\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$/)
    expect(encoded).not.toContain('correct horse battery staple')
    expect(await verifyPassword('correct horse battery staple', encoded)).toBe(true)
  })

  it('writes the parameters it was given, a 16-byte salt and a 32-byte hash', async () => {
    const encoded = await hashPassword('pw', cheapHashParams)
    expect(encoded).toMatch(/^\$scrypt\$ln=14,r=8,p=1\$/)
    const parsed = parsePasswordHash(encoded)
    expect(parsed).toMatchObject(cheapHashParams)
    expect(parsed?.salt).toHaveLength(16)
    expect(parsed?.hash).toHaveLength(32)
  })

  it('salts every hash afresh, so two hashes of one password differ', async () => {
    const [first, second] = await Promise.all([
      hashPassword('pw', cheapHashParams),
      hashPassword('pw', cheapHashParams),
    ])
    expect(first).not.toBe(second)
    expect(parsePasswordHash(first)?.salt).not.toEqual(parsePasswordHash(second)?.salt)
  })

  it('does not write the password, nor its base64, into the encoded string', async () => {
    const password = 'JeffLynneELO1977'
    const encoded = await hashPassword(password, cheapHashParams)
    expect(encoded).not.toContain(password)
    expect(encoded).not.toContain(Buffer.from(password).toString('base64').replace(/=+$/, ''))
  })
})

describe('verifyPassword', () => {
  it('accepts the right password and refuses one differing by a character, or an empty one', async () => {
    const encoded = await hashPassword('pässwörd-42', cheapHashParams)
    expect(await verifyPassword('pässwörd-42', encoded)).toBe(true)
    expect(await verifyPassword('pässwörd-43', encoded)).toBe(false)
    expect(await verifyPassword('pässwörd-4', encoded)).toBe(false)
    expect(await verifyPassword('Pässwörd-42', encoded)).toBe(false)
    expect(await verifyPassword('', encoded)).toBe(false)
  })

  it('tells a password from the same password with a character appended', async () => {
    const encoded = await hashPassword('pw', cheapHashParams)
    expect(await verifyPassword('pw2', encoded)).toBe(false)
    expect(await verifyPassword('pw', encoded)).toBe(true)
  })

  it('verifies the NFC and NFD forms of a password as the same password', async () => {
    const nfc = 'Zoë-pässwörd'.normalize('NFC')
    const nfd = 'Zoë-pässwörd'.normalize('NFD')
    expect(nfc).not.toBe(nfd)
    const fromNfc = await hashPassword(nfc, cheapHashParams)
    const fromNfd = await hashPassword(nfd, cheapHashParams)
    expect(await verifyPassword(nfd, fromNfc)).toBe(true)
    expect(await verifyPassword(nfc, fromNfd)).toBe(true)
  })
})

describe('parsePasswordHash', () => {
  const malformed = {
    'an empty string': '',
    'a plain-text password': 'plain-text',
    'another algorithm': `$argon2id$v=19$m=65536,t=3,p=4$${salt}$${digest}`,
    'a missing hash': `$scrypt$ln=15,r=8,p=3$${salt}`,
    'a missing salt': `$scrypt$ln=15,r=8,p=3$$${digest}`,
    'missing parameters': `$scrypt$$${salt}$${digest}`,
    'a missing parameter': phc('ln=15,r=8'),
    'parameters out of order': phc('r=8,ln=15,p=3'),
    'a trailing field': `${phc('ln=15,r=8,p=3')}$extra`,
    'a salt that is too short': `$scrypt$ln=15,r=8,p=3$c2FsdA$${digest}`,
    'characters outside base64': `$scrypt$ln=15,r=8,p=3$${salt}$${digest.slice(0, -1)}!`,
    'surrounding whitespace': ` ${phc('ln=15,r=8,p=3')}\n`,
    'ln = 10 (too weak)': phc('ln=10,r=8,p=1'),
    'ln = 13 (too weak)': phc('ln=13,r=8,p=1'),
    'ln = 25 (absurd)': phc('ln=25,r=8,p=1'),
    'ln = 100 (absurd)': phc('ln=100,r=8,p=1'),
    'r = 0': phc('ln=15,r=0,p=3'),
    'p = 0': phc('ln=15,r=8,p=0'),
    'a negative parameter': phc('ln=15,r=-8,p=3'),
  }

  for (const [name, encoded] of Object.entries(malformed)) {
    it(`refuses ${name}, and verifyPassword resolves false for it`, async () => {
      expect(parsePasswordHash(encoded)).toBeUndefined()
      await expect(verifyPassword('pw', encoded)).resolves.toBe(false)
    })
  }

  it('reads the parameters, salt and hash of a well-formed string', () => {
    expect(parsePasswordHash(phc('ln=15,r=8,p=3'))).toEqual({
      logN: 15,
      r: 8,
      p: 3,
      salt: Buffer.from('saltsaltsaltsalt'),
      hash: Buffer.from('hashhashhashhashhashhashhashhash'),
    })
  })

  // scrypt needs 128 * r * (N + p + 2) bytes (OpenSSL's count); hash.ts allows it maxmem = 256 MiB.
  const beyondMemory = {
    'ln = 20, r = 8, p = 1 (1 GiB)': phc('ln=20,r=8,p=1'),
    'ln = 18, r = 8, p = 1 (256 MiB + 3 KiB: 128 * N * r alone is exactly the limit)': phc('ln=18,r=8,p=1'),
  }

  for (const [name, encoded] of Object.entries(beyondMemory)) {
    it(`refuses parameters scrypt cannot run within its memory limit, ${name}`, async () => {
      await expect(verifyPassword('pw', encoded)).resolves.toBe(false)
      expect(parsePasswordHash(encoded)).toBeUndefined()
    })
  }

  it('never throws, and verifyPassword never rejects, whatever the string', async () => {
    const b64 = fc.string({unit: fc.constantFrom(...'ABCabc019+/='), maxLength: 50})
    const outOfRange = fc.oneof(fc.integer({min: 0, max: 13}), fc.integer({min: 21, max: 999}))
    const phcLike = fc
      .tuple(outOfRange, fc.nat(99), fc.nat(99), b64, b64)
      .map(([ln, r, p, s, h]) => `$scrypt$ln=${ln},r=${r},p=${p}$${s}$${h}`)
    await fc.assert(
      fc.asyncProperty(fc.oneof(fc.string(), fc.string({unit: 'binary'}), phcLike), async (encoded) => {
        expect(() => parsePasswordHash(encoded)).not.toThrow()
        await expect(verifyPassword('pw', encoded)).resolves.toBe(false)
      }),
      {numRuns: 200},
    )
  })
})

describe('dummyPasswordHash', () => {
  it('has the parameters and lengths of the hash it is like, a salt of its own, and matches no password', async () => {
    const real = await hashPassword('ELO', cheapHashParams)
    const dummy = dummyPasswordHash(real)
    const [parsedReal, parsedDummy] = [parsePasswordHash(real)!, parsePasswordHash(dummy)!]
    expect(parsedDummy).toMatchObject(cheapHashParams)
    expect(parsedDummy.salt.length).toBe(parsedReal.salt.length)
    expect(parsedDummy.hash.length).toBe(parsedReal.hash.length)
    expect(parsedDummy.salt.equals(parsedReal.salt)).toBe(false)
    expect(await verifyPassword('ELO', dummy)).toBe(false)
    expect(dummyPasswordHash(real)).not.toBe(dummy)
  })

  it('falls back to the default parameters for a string that is not a hash', () => {
    expect(parsePasswordHash(dummyPasswordHash('plain-text'))).toMatchObject(defaultParams)
  })
})

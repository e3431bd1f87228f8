import fc from 'fast-check'
import {describe, expect, it} from 'vitest'

import {credentialProblem, shortPasswordProblem} from '../../src/credentials/credentials.js'
import {createPlainVerifier} from '../../src/credentials/verifier.js'
import {parseAuthorization} from '../../src/web/basic-auth.js'
import {basicHeader} from '../helpers/https.js'

describe('credentialProblem', () => {
  it('refuses empty values, control characters (NUL included) and a colon in the user name', () => {
    expect(credentialProblem('password', '')).toMatch(/empty/)
    for (const control of ['\u0000', '\n', '\r', '\t', '\u001b', '\u007f', '\u0085', '\u2028']) {
      expect(credentialProblem('password', `pw${control}`)).toMatch(/control character/)
    }
    expect(credentialProblem('user name', 'a:b')).toMatch(/":"/)
    expect(credentialProblem('password', 'a:b')).toBeUndefined()
    expect(credentialProblem('password', 'pässwörd 🔑')).toBeUndefined()
  })
})

describe('shortPasswordProblem', () => {
  it('refuses fewer than 8 characters and accepts 8', () => {
    expect(shortPasswordProblem('ELO')).toBe('The new password is shorter than 8 characters.')
    expect(shortPasswordProblem('1234567')).toMatch(/shorter than 8/)
    expect(shortPasswordProblem('12345678')).toBeUndefined()
    expect(shortPasswordProblem('Turn to Stone')).toBeUndefined()
  })

  it('counts characters as a person does: one per grapheme cluster of the NFC form', () => {
    // e + U+0301 eight times is eight "é" (16 code points in NFD), seven of them too few.
    expect(shortPasswordProblem('e\u0301'.repeat(7))).toMatch(/shorter than 8/)
    expect(shortPasswordProblem('e\u0301'.repeat(8))).toBeUndefined()
    // A family emoji is 7 code points and 11 UTF-16 units, but one character on screen.
    const family = '\u{1F468}\u200D\u{1F469}\u200D\u{1F467}\u200D\u{1F466}'
    expect(shortPasswordProblem(family.repeat(2))).toMatch(/shorter than 8/)
    expect(shortPasswordProblem(`${'\u{1F44D}\u{1F3FD}'.repeat(4)}abcd`)).toBeUndefined()
    expect(shortPasswordProblem('한국어비밀번호')).toMatch(/shorter than 8/)
    expect(shortPasswordProblem('한국어비밀번호다')).toBeUndefined()
  })
})

describe('parseAuthorization', () => {
  it('decodes UTF-8, splits at the first colon and normalises to NFC', () => {
    expect(parseAuthorization(basicHeader('Zoe\u0308', 'a:b:c'))).toEqual({
      username: 'Zoë',
      password: 'a:b:c',
    })
  })

  it('treats credentials with control characters or invalid UTF-8 as absent', () => {
    expect(parseAuthorization(basicHeader('JeffLynne', 'ELO\u0000'))).toBeUndefined()
    expect(parseAuthorization(`Basic ${Buffer.from([0x61, 0x3a, 0xc3]).toString('base64')}`)).toBeUndefined()
  })

  it('never throws, whatever the header', () => {
    fc.assert(
      fc.property(fc.string({unit: 'binary'}), (header) => {
        parseAuthorization(header)
        parseAuthorization(`Basic ${header}`)
        parseAuthorization(`Basic ${Buffer.from(header).toString('base64')}`)
      }),
      {numRuns: 2000},
    )
  })

  it('round-trips every valid user name and password', () => {
    const text = fc
      .string({unit: 'grapheme', minLength: 1})
      .filter((value) => credentialProblem('password', value) === undefined)
    fc.assert(
      fc.property(
        text.filter((value) => !value.includes(':')),
        text,
        (username, password) => {
          expect(parseAuthorization(basicHeader(username, password))).toEqual({
            username: username.normalize('NFC'),
            password: password.normalize('NFC'),
          })
        },
      ),
      {numRuns: 1000},
    )
  })
})

describe('createPlainVerifier', () => {
  const verifier = createPlainVerifier({username: 'JeffLynne', password: 'ELO'})

  it('accepts exactly the right pair, at once', () => {
    expect(verifier.check({username: 'JeffLynne', password: 'ELO'}).answerAtOnce()).toBe(true)
    expect(verifier.check({username: 'JeffLynne', password: 'ELO '}).answerAtOnce()).toBe(false)
    expect(verifier.check({username: 'JeffLynn', password: 'eELO'}).answerAtOnce()).toBe(false)
    expect(verifier.check({username: 'ELO', password: 'JeffLynne'}).answerAtOnce()).toBe(false)
  })

  it('never accepts any other pair', async () => {
    await fc.assert(
      fc.asyncProperty(fc.string(), fc.string(), async (username, password) => {
        fc.pre(username !== 'JeffLynne' || password !== 'ELO')
        expect(verifier.check({username, password}).answerAtOnce()).toBe(false)
      }),
      {numRuns: 500},
    )
  })
})

describe('parseAuthorization with a verifier', () => {
  const right = {username: 'JeffLynne', password: 'ELO:Mr Blue Sky'}
  const verifier = createPlainVerifier(right)

  it('never authenticates an arbitrary header unless it carries exactly the right pair', async () => {
    const rightHeader = basicHeader(right.username, right.password)
    const headers = fc.oneof(
      fc.string({unit: 'binary'}),
      fc.string({unit: 'binary'}).map((text) => `Basic ${Buffer.from(text, 'latin1').toString('base64')}`),
      fc.tuple(fc.string(), fc.string()).map(([user, password]) => basicHeader(user, password)),
      fc.constantFrom(
        rightHeader.toLowerCase(),
        `${rightHeader}=`,
        `${rightHeader} `,
        rightHeader.replace('Basic', 'Bearer'),
      ),
    )
    await fc.assert(
      fc.asyncProperty(headers, async (header) => {
        const credentials = parseAuthorization(header)
        const accepted = credentials !== undefined && verifier.check(credentials).answerAtOnce()
        const exact = credentials?.username === right.username && credentials.password === right.password
        expect(accepted).toBe(exact)
      }),
      {numRuns: 1500},
    )
  })
})

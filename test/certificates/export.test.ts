import {X509Certificate} from 'node:crypto'

import {parse} from 'plist'
import {beforeAll, describe, expect, it} from 'vitest'

import {createAuthority, type PemPair} from '../../src/certificates/authority.js'
import {homeConstraints} from '../../src/certificates/constraints.js'
import {exportAuthority} from '../../src/certificates/export.js'

let authority: PemPair
let other: PemPair

beforeAll(async () => {
  authority = await createAuthority('homeauth local CA (jeff@pi)', homeConstraints([]))
  other = await createAuthority('homeauth local CA (bev@nas)', homeConstraints([]))
})

/** The bytes between a PEM's BEGIN and END lines, decoded. */
function pemBody(pem: string): Buffer {
  return Buffer.from(pem.replace(/-----[A-Z ]+-----/g, '').replace(/\s+/g, ''), 'base64')
}

interface Profile {
  PayloadType: string
  PayloadVersion: number
  PayloadIdentifier: string
  PayloadUUID: string
  PayloadDisplayName: string
  PayloadDescription: string
  PayloadContent: Record<string, unknown>[]
}

function parseProfile(bytes: Buffer): Profile {
  return parse(bytes.toString('utf8')) as unknown as Profile
}

const uuidPattern = /^[0-9A-F]{8}-[0-9A-F]{4}-8[0-9A-F]{3}-[89AB][0-9A-F]{3}-[0-9A-F]{12}$/

describe('exportAuthority', () => {
  it('gives the PEM as stored', () => {
    expect(exportAuthority(authority.cert, 'pem').toString('utf8')).toBe(authority.cert)
  })

  it('gives DER that is the PEM’s decoded body, with the same fingerprint', () => {
    const der = exportAuthority(authority.cert, 'der')
    expect(der.equals(pemBody(authority.cert))).toBe(true)
    expect(new X509Certificate(der).fingerprint256).toBe(new X509Certificate(authority.cert).fingerprint256)
  })

  it('gives a configuration profile whose single root payload is the DER', () => {
    const profile = parseProfile(exportAuthority(authority.cert, 'mobileconfig'))
    expect(profile).toMatchObject({
      PayloadType: 'Configuration',
      PayloadVersion: 1,
      PayloadDisplayName: 'homeauth local CA (jeff@pi)',
    })
    expect(profile.PayloadIdentifier).toMatch(/^local\.homeauth\.ca\.[0-9a-f]{64}$/)
    expect(profile.PayloadUUID).toMatch(uuidPattern)
    expect(profile.PayloadDescription).toContain(new X509Certificate(authority.cert).fingerprint256)
    expect(profile.PayloadContent).toHaveLength(1)
    const [payload] = profile.PayloadContent
    expect(payload).toMatchObject({
      PayloadType: 'com.apple.security.root',
      PayloadVersion: 1,
      PayloadCertificateFileName: 'homeauth-ca.crt',
    })
    expect(payload!.PayloadUUID).toMatch(uuidPattern)
    expect(payload!.PayloadUUID).not.toBe(profile.PayloadUUID)
    expect(payload!.PayloadIdentifier).toMatch(new RegExp(`^${profile.PayloadIdentifier}\\.`))
    const der = Buffer.from(payload!.PayloadContent as Uint8Array)
    expect(der.equals(exportAuthority(authority.cert, 'der'))).toBe(true)
  })

  it('gives the same profile for the same CA and another one for another CA', () => {
    const first = exportAuthority(authority.cert, 'mobileconfig')
    expect(exportAuthority(authority.cert, 'mobileconfig').equals(first)).toBe(true)
    const mine = parseProfile(first)
    const theirs = parseProfile(exportAuthority(other.cert, 'mobileconfig'))
    expect(theirs.PayloadUUID).not.toBe(mine.PayloadUUID)
    expect(theirs.PayloadContent[0]!.PayloadUUID).not.toBe(mine.PayloadContent[0]!.PayloadUUID)
    expect(theirs.PayloadIdentifier).not.toBe(mine.PayloadIdentifier)
  })

  it('escapes the CA’s name in the profile’s XML', async () => {
    const odd = await createAuthority('homeauth <local> & CA', homeConstraints([]))
    const profile = parseProfile(exportAuthority(odd.cert, 'mobileconfig'))
    expect(profile.PayloadDisplayName).toBe('homeauth <local> & CA')
  })
})

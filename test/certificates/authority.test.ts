import 'reflect-metadata'

import {X509Certificate as NodeCertificate} from 'node:crypto'

import * as x509 from '@peculiar/x509'
import {beforeAll, describe, expect, it} from 'vitest'

import {
  createAuthority,
  issueServerCertificate,
  serverValidityDays,
  type PemPair,
} from '../../src/certificates/authority.js'
import {homeConstraints} from '../../src/certificates/constraints.js'
import {certificateHosts} from '../../src/certificates/hosts.js'
import {machineNames} from '../../src/net/hosts.js'
import {opensslVerify} from '../helpers/authorities.js'
import {useTempDir} from '../helpers/temp.js'

const day = 24 * 60 * 60 * 1000
const constraints = homeConstraints(machineNames())
const hosts = certificateHosts(['pi.home.arpa', '10.1.2.3'], constraints)
let authority: PemPair
let server: PemPair

beforeAll(async () => {
  authority = await createAuthority('homeauth test CA', constraints)
  server = await issueServerCertificate(authority, hosts)
})

function extension<T extends x509.Extension>(
  cert: x509.X509Certificate,
  type: new (raw: ArrayBuffer) => T,
): T {
  const found = cert.getExtension(type)
  if (!found) throw new Error(`missing ${type.name}`)
  return found
}

describe('the local CA', () => {
  it('is an EC P-256 CA signed with SHA-256, with a CN, CA:true, keyCertSign and a key identifier', () => {
    const cert = new x509.X509Certificate(authority.cert)
    const node = new NodeCertificate(authority.cert)
    expect(node.publicKey.asymmetricKeyDetails?.namedCurve).toBe('prime256v1')
    expect(cert.signatureAlgorithm).toMatchObject({name: 'ECDSA', hash: {name: 'SHA-256'}})
    expect(node.subject).toContain('CN=homeauth test CA')
    expect(node.ca).toBe(true)
    const usage = extension(cert, x509.KeyUsagesExtension)
    expect(usage.usages & x509.KeyUsageFlags.keyCertSign).toBeTruthy()
    expect(extension(cert, x509.BasicConstraintsExtension).critical).toBe(true)
    expect(extension(cert, x509.SubjectKeyIdentifierExtension).keyId).toMatch(/^[0-9a-f]{40}$/)
  })

  it('is valid for about ten years, starting a few minutes ago', () => {
    const cert = new x509.X509Certificate(authority.cert)
    const years = (cert.notAfter.getTime() - cert.notBefore.getTime()) / (365 * day)
    expect(years).toBeCloseTo(10, 1)
    expect(Date.now() - cert.notBefore.getTime()).toBeGreaterThan(60_000)
  })
})

describe('the server certificate', () => {
  it('names loopback, the machine, its .local name, its LAN addresses and extra hosts', () => {
    const names = new NodeCertificate(server.cert).subjectAltName ?? ''
    for (const expected of [
      'DNS:localhost',
      'IP Address:127.0.0.1',
      'IP Address:0:0:0:0:0:0:0:1',
      'DNS:pi.home.arpa',
      'IP Address:10.1.2.3',
    ]) {
      expect(names).toContain(expected)
    }
    for (const name of machineNames()) expect(names).toContain(`DNS:${name}`)
    expect(names).not.toMatch(/IP Address:169\.254\.|IP Address:FE80:/i)
    expect(names).not.toMatch(/\.local\.local/)
  })

  it('is EC P-256, SHA-256, serverAuth only, not a CA', () => {
    const cert = new x509.X509Certificate(server.cert)
    expect(new NodeCertificate(server.cert).publicKey.asymmetricKeyDetails?.namedCurve).toBe('prime256v1')
    expect(cert.signatureAlgorithm).toMatchObject({name: 'ECDSA', hash: {name: 'SHA-256'}})
    expect(extension(cert, x509.ExtendedKeyUsageExtension).usages).toEqual([x509.ExtendedKeyUsage.serverAuth])
    expect(extension(cert, x509.BasicConstraintsExtension).ca).toBe(false)
  })

  it(`is valid for at most ${serverValidityDays} days, from a few minutes ago`, () => {
    const cert = new x509.X509Certificate(server.cert)
    expect(cert.notAfter.getTime() - cert.notBefore.getTime()).toBeLessThanOrEqual(397 * day)
    const backdated = Date.now() - cert.notBefore.getTime()
    expect(backdated).toBeGreaterThan(60_000)
    expect(backdated).toBeLessThan(15 * 60_000)
  })

  it('carries an Authority Key Identifier equal to the CA’s Subject Key Identifier', () => {
    const caKeyId = extension(
      new x509.X509Certificate(authority.cert),
      x509.SubjectKeyIdentifierExtension,
    ).keyId
    const cert = new x509.X509Certificate(server.cert)
    expect(extension(cert, x509.AuthorityKeyIdentifierExtension).keyId).toBe(caKeyId)
    expect(extension(cert, x509.SubjectKeyIdentifierExtension).keyId).toMatch(/^[0-9a-f]{40}$/)
    expect(new NodeCertificate(server.cert).checkIssued(new NodeCertificate(authority.cert))).toBe(true)
  })

  const tempDir = useTempDir()
  it('passes openssl verify -x509_strict against the CA', () => {
    expect(opensslVerify(tempDir(), authority, server)).toEqual({
      status: 0,
      output: expect.stringMatching(/leaf\.pem: OK/),
    })
  })
})

import {webcrypto} from 'node:crypto'
import {isIP} from 'node:net'

import type {Extension} from '@peculiar/x509'

import {nameConstraintsExtension, type NameConstraints} from './constraints.js'

export interface PemPair {
  cert: string
  key: string
}

const minute = 60_000
const day = 24 * 60 * minute
/** Clocks on phones and Pis drift; a certificate valid from a few minutes ago is accepted at once. */
const backdate = 5 * minute
/** Browsers refuse server certificates valid for more than 398 days (CA/Browser Forum, Apple). */
export const serverValidityDays = 397
const authorityValidityDays = 10 * 365

/*
 * Choices a reviewer looks for: EC P-256 keys and ECDSA with SHA-256 for both certificates,
 * set explicitly because selfsigned's defaults are RSA with SHA-1 and a SAN equal to the CN.
 */
const keyOptions = {keyType: 'ec', curve: 'P-256', algorithm: 'sha256'} as const
const signingAlgorithm = {name: 'ECDSA', hash: 'SHA-256'}

/**
 * The libraries that issue certificates, loaded on first use: together they take longer to load than
 * the rest of a command's start-up, and serving, inspecting or exporting existing certificates needs
 * neither. @peculiar/x509 2.x throws on load unless reflect-metadata is loaded before it.
 */
async function issuingLibraries() {
  await import('reflect-metadata')
  const [x509, {generate}] = await Promise.all([import('@peculiar/x509'), import('selfsigned')])
  return {x509, generate}
}

function validity(now: Date, days: number): {notBeforeDate: Date; notAfterDate: Date} {
  const notBeforeDate = new Date(now.getTime() - backdate)
  return {notBeforeDate, notAfterDate: new Date(notBeforeDate.getTime() + days * day)}
}

function importSigningKey(der: ArrayBuffer): Promise<webcrypto.CryptoKey> {
  return webcrypto.subtle.importKey('pkcs8', der, {name: 'ECDSA', namedCurve: 'P-256'}, false, ['sign'])
}

/**
 * selfsigned 5 writes no Subject or Authority Key Identifier, and strict verifiers (OpenSSL's
 * -x509_strict, Python >= 3.13's VERIFY_X509_STRICT) reject a CA-issued certificate without them.
 * So the certificate selfsigned made is issued again with @peculiar/x509, the library selfsigned
 * is built on: same serial, names, validity, key and extensions, plus both identifiers and
 * `extraExtensions` (selfsigned knows only four kinds).
 */
async function reissueWithKeyIdentifiers(
  certPem: string,
  issuer: PemPair | 'self',
  ownKeyPem: string,
  extraExtensions: Extension[] = [],
): Promise<string> {
  const {x509} = await issuingLibraries()
  const made = new x509.X509Certificate(certPem)
  const issuerCert = issuer === 'self' ? made : new x509.X509Certificate(issuer.cert)
  const signingKey = await importSigningKey(
    x509.PemConverter.decodeFirst(issuer === 'self' ? ownKeyPem : issuer.key),
  )
  const reissued = await x509.X509CertificateGenerator.create({
    serialNumber: made.serialNumber,
    subject: made.subject,
    issuer: made.issuer,
    notBefore: made.notBefore,
    notAfter: made.notAfter,
    signingAlgorithm,
    publicKey: made.publicKey,
    signingKey,
    extensions: [
      ...made.extensions,
      await x509.SubjectKeyIdentifierExtension.create(made.publicKey),
      await x509.AuthorityKeyIdentifierExtension.create(issuerCert.publicKey),
      ...extraExtensions,
    ],
  })
  return reissued.toString('pem')
}

/**
 * Makes a local certificate authority: CA:true, keyCertSign, a CN (iOS lists only CAs with one),
 * ~10 years, and critical name constraints permitting only `constraints` (RFC 5280 asks for them
 * critical, so a verifier that cannot read them refuses the chain rather than ignoring them).
 */
export async function createAuthority(
  commonName: string,
  constraints: NameConstraints,
  now = new Date(),
): Promise<PemPair> {
  const {generate, x509} = await issuingLibraries()
  const made = await generate(
    [
      {name: 'commonName', value: commonName},
      {name: 'organizationName', value: 'homeauth'},
    ],
    {
      ...keyOptions,
      ...validity(now, authorityValidityDays),
      extensions: [
        {name: 'basicConstraints', cA: true, pathLenConstraint: 0, critical: true},
        {name: 'keyUsage', keyCertSign: true, cRLSign: true, digitalSignature: true, critical: true},
      ],
    },
  )
  const {oid, value} = await nameConstraintsExtension(constraints)
  const nameConstraints = new x509.Extension(oid, true, value)
  return {
    cert: await reissueWithKeyIdentifiers(made.cert, 'self', made.private, [nameConstraints]),
    key: made.private,
  }
}

/** Issues a server certificate from `authority` for `hosts` (DNS names and IP addresses), serverAuth only. */
export async function issueServerCertificate(
  authority: PemPair,
  hosts: string[],
  now = new Date(),
): Promise<PemPair> {
  const [first = 'localhost'] = hosts
  const {generate} = await issuingLibraries()
  const made = await generate([{name: 'commonName', value: first}], {
    ...keyOptions,
    ...validity(now, serverValidityDays),
    ca: authority,
    extensions: [
      {name: 'basicConstraints', cA: false, critical: true},
      {name: 'keyUsage', digitalSignature: true, critical: true},
      {name: 'extKeyUsage', serverAuth: true},
      {
        name: 'subjectAltName',
        altNames: hosts.map((host) => (isIP(host) ? {type: 7, ip: host} : {type: 2, value: host})),
      },
    ],
  })
  return {cert: await reissueWithKeyIdentifiers(made.cert, authority, made.private), key: made.private}
}

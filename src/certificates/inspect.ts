import {X509Certificate, createPrivateKey, type KeyObject} from 'node:crypto'
import {SocketAddress, isIPv6} from 'node:net'

const day = 24 * 60 * 60 * 1000

export interface CertificateSummary {
  subject: string
  hosts: string[]
  fingerprint: string
  notAfter: Date
  daysLeft: number
}

/** Parses a PEM certificate; throws a plain Error with `label` in its message when it is not one. */
export function parseCertificate(pem: string, label: string): X509Certificate {
  try {
    return new X509Certificate(pem)
  } catch (error) {
    throw new Error(`${label} is not a PEM certificate`, {cause: error})
  }
}

export function parsePrivateKey(pem: string, label: string): KeyObject {
  try {
    return createPrivateKey(pem)
  } catch (error) {
    throw new Error(`${label} is not a PEM private key`, {cause: error})
  }
}

/** A host name or address in one spelling: lower case, IPv6 compressed (as users type it, not as Node prints it). */
export function canonicalHost(host: string): string {
  return isIPv6(host) ? new SocketAddress({address: host, family: 'ipv6'}).address : host.toLowerCase()
}

/** The names and addresses in a certificate's subjectAltName, as Node prints them without their type. */
export function subjectAltNames(certificate: X509Certificate): string[] {
  return (certificate.subjectAltName ?? '')
    .split(', ')
    .filter(Boolean)
    .map((entry) => {
      const ip = /^IP Address:(.*)$/.exec(entry)?.[1]
      // Node prints IPv6 addresses uncompressed and in upper case; show them as users type them.
      if (ip?.includes(':')) return canonicalHost(ip)
      return ip ?? entry.replace(/^DNS:/, '')
    })
}

export function summarize(certificate: X509Certificate, now = new Date()): CertificateSummary {
  const notAfter = new Date(certificate.validTo)
  return {
    subject: certificate.subject.replace(/\n/g, ', '),
    hosts: subjectAltNames(certificate),
    fingerprint: certificate.fingerprint256,
    notAfter,
    daysLeft: Math.floor((notAfter.getTime() - now.getTime()) / day),
  }
}

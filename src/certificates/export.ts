import {createHash, X509Certificate} from 'node:crypto'

import {build} from 'plist'

import {exists, publicFileMode, writeFileAtomic} from '../config/files.js'
import {errorCode, usageError} from '../errors.js'
import type {CaFormat} from './platforms.js'
import {requireAuthority} from './store.js'

/**
 * A stable UUID for one part of the profile of the CA with `fingerprint`: the same CA always gives
 * the same profile, so installing it again updates it instead of adding a second copy. Name-based
 * from SHA-256, marked as an RFC 9562 version 8 (custom) UUID.
 */
function profileUuid(fingerprint: string, part: string): string {
  const bytes = createHash('sha256').update(`homeauth ${part} ${fingerprint}`).digest().subarray(0, 16)
  bytes[6] = (bytes[6]! & 0x0f) | 0x80
  bytes[8] = (bytes[8]! & 0x3f) | 0x80
  const hex = bytes.toString('hex').toUpperCase()
  return [hex.slice(0, 8), hex.slice(8, 12), hex.slice(12, 16), hex.slice(16, 20), hex.slice(20)].join('-')
}

/** The certificate's common name unescaped (`subject` escapes it as RFC 4514 does), else a generic name. */
function commonName(certificate: X509Certificate): string {
  const names = [certificate.toLegacyObject().subject.CN ?? []].flat()
  return names[0] ?? 'homeauth local CA'
}

/**
 * An iOS/iPadOS/macOS configuration profile whose single payload (`com.apple.security.root`) is the
 * CA. The identifier carries the fingerprint, so two homeauth servers' profiles never replace each other.
 */
function mobileconfig(certificate: X509Certificate): string {
  const fingerprint = certificate.fingerprint256
  const identifier = `local.homeauth.ca.${fingerprint.replaceAll(':', '').toLowerCase()}`
  const name = commonName(certificate)
  return build({
    PayloadType: 'Configuration',
    PayloadVersion: 1,
    PayloadIdentifier: identifier,
    PayloadUUID: profileUuid(fingerprint, 'profile'),
    PayloadDisplayName: name,
    PayloadDescription: `Adds ${name} (CA fingerprint ${fingerprint}, SHA-256) to the certificates this device trusts. Then turn on full trust for it under Settings › General › About › Certificate Trust Settings.`,
    PayloadOrganization: 'homeauth',
    PayloadRemovalDisallowed: false,
    PayloadContent: [
      {
        PayloadType: 'com.apple.security.root',
        PayloadVersion: 1,
        PayloadIdentifier: `${identifier}.root`,
        PayloadUUID: profileUuid(fingerprint, 'root'),
        PayloadDisplayName: name,
        PayloadDescription: `The homeauth local CA, CA fingerprint ${fingerprint} (SHA-256).`,
        PayloadCertificateFileName: 'homeauth-ca.crt',
        PayloadContent: certificate.raw,
      },
    ],
  })
}

/** The CA certificate (PEM) in the form a device installs: the PEM itself, DER, or an Apple configuration profile. */
export function exportAuthority(caPem: string, format: CaFormat): Buffer {
  if (format === 'pem') return Buffer.from(caPem)
  const certificate = new X509Certificate(caPem)
  return format === 'der' ? certificate.raw : Buffer.from(mobileconfig(certificate))
}

export interface AuthorityExport {
  data: Buffer
  /** The CA's SHA-256 fingerprint, for the user to compare on the device. */
  fingerprint: string
}

/** The stored CA in `format`; exit code 8 when there is no CA yet. */
export async function exportStoredAuthority(configDir: string, format: CaFormat): Promise<AuthorityExport> {
  const pem = (await requireAuthority(configDir)).cert
  return {data: exportAuthority(pem, format), fingerprint: new X509Certificate(pem).fingerprint256}
}

/**
 * Writes an export to `file` as a whole or not at all, mode 0644 (the CA certificate is public), and
 * never over an existing file unless `force`.
 */
export async function saveAuthorityExport(file: string, data: Buffer, force: boolean): Promise<void> {
  if (!force && (await exists(file))) {
    throw usageError(`${file} already exists.`, ['Pass --force to replace it, or another --out.'])
  }
  try {
    await writeFileAtomic(file, data, publicFileMode)
  } catch (error) {
    const reason =
      errorCode(error) === 'ENOENT'
        ? 'is in a directory that does not exist'
        : `cannot be written (${errorCode(error) ?? 'error'})`
    throw usageError(`${file} ${reason}.`, ['Check the path given to --out.'])
  }
}

import {X509Certificate} from 'node:crypto'
import os from 'node:os'

import {configFile, readConfig} from '../config/config.js'
import {
  type SetFile,
  checkPrivateMode,
  ensureConfigDir,
  privateFileMode,
  publicFileMode,
  readFileSetSnapshot,
  withConfigLock,
} from '../config/files.js'
import {withSetting} from '../config/stored-settings.js'
import {readUserFile} from '../config/user-files.js'
import {osUsername} from '../credentials/os-user.js'
import {setupError} from '../errors.js'
import {homeauthCommand} from '../invocation.js'
import {configFiles, configPath} from '../paths.js'
import {createAuthority, issueServerCertificate, type PemPair} from './authority.js'
import {homeConstraints, readNameConstraints, type NameConstraints} from './constraints.js'
import {certificateHosts, missingHosts} from './hosts.js'
import {machineNames} from '../net/hosts.js'
import {
  parseCertificate,
  parsePrivateKey,
  subjectAltNames,
  summarize,
  type CertificateSummary,
} from './inspect.js'

/** The server certificate is renewed from the CA when fewer days than this are left. */
export const renewBeforeDays = 30

export interface ServedCertificate {
  key: string
  cert: string
  certificate: CertificateSummary
  /** The local CA, when homeauth manages the certificates (not with --cert/--key). */
  authority?: {
    file: string
    fingerprint: string
    /** The CA certificate (PEM): public, what devices install. */
    cert: string
    /** What the CA may vouch for; undefined for a CA made before homeauth constrained its CAs (any name). */
    nameConstraints: NameConstraints | undefined
  }
  /** What happened at load: reused, made for the first time, renewed, or given by the user. */
  provenance: 'reused' | 'created' | 'renewed' | 'provided'
  /** Names and addresses the certificate lacked and was reissued to add. */
  addedHosts?: string[]
}

const recoverSuggestions = {
  caCert: [
    `Restore it from a backup, or make a new CA with: ${homeauthCommand('init --force --new-ca')} (devices must trust it again).`,
  ],
  serverCert: [`Make a new server certificate from the CA with: ${homeauthCommand('cert renew')}`],
}

/**
 * Reads a stored certificate and its key as one generation wrote them (a writer may switch
 * generations meanwhile: the reader takes no lock); undefined when neither file exists.
 */
async function readPair(
  configDir: string,
  certFile: 'caCert' | 'serverCert',
  keyFile: 'caKey' | 'serverKey',
) {
  const files = {cert: configPath(configDir, certFile), key: configPath(configDir, keyFile)}
  const [cert, key] = await readFileSetSnapshot(configDir, [configFiles[certFile], configFiles[keyFile]])
  if (!cert && !key) return undefined
  if (!cert || !key) {
    const missing = cert ? files.key : files.cert
    throw setupError(`${missing} is missing while its pair is present.`, recoverSuggestions[certFile])
  }
  checkPrivateMode(files.key, key.mode)
  const pair = {cert: cert.text, key: key.text}
  return {pair, certificate: checkPair(pair, files, recoverSuggestions[certFile])}
}

/** Where a pair's certificate and key are (or, for --cert/--key, were given as): for messages. */
interface PairFiles {
  cert: string
  key: string
}

/** The certificate of `pair`, once its key is known to belong to it; else exit code 8 naming both files. */
function checkPair(pair: PemPair, files: PairFiles, suggestions: string[]): X509Certificate {
  try {
    const certificate = parseCertificate(pair.cert, files.cert)
    if (!certificate.checkPrivateKey(parsePrivateKey(pair.key, files.key))) {
      throw new Error(`The key in ${files.key} does not match the certificate in ${files.cert}`)
    }
    return certificate
  } catch (error) {
    throw setupError(`${(error as Error).message}.`, suggestions, error)
  }
}

/** The CA's common name: whose it is and on which machine, as devices list it among trusted roots. */
export function authorityName(): string {
  return `homeauth local CA (${osUsername()}@${os.hostname()})`
}

/**
 * Makes a new CA that may vouch only for the home (see `homeConstraints`): this machine's names, and
 * `extraHosts` (--san, config.json's `serve.san`) beyond the home's domains and ranges.
 */
export function createHomeAuthority(extraHosts: string[] = [], now = new Date()): Promise<PemPair> {
  return createAuthority(authorityName(), homeConstraints([...machineNames(), ...extraHosts]), now)
}

/** The four certificate files, with their modes, ready for `LockedConfigDir.updateFileSet`. */
export function certificateFiles(authority: PemPair, server: PemPair): SetFile[] {
  return [
    {name: configFiles.caCert, data: authority.cert, mode: publicFileMode},
    {name: configFiles.caKey, data: authority.key, mode: privateFileMode},
    {name: configFiles.serverCert, data: server.cert, mode: publicFileMode},
    {name: configFiles.serverKey, data: server.key, mode: privateFileMode},
  ]
}

export interface LoadOptions {
  /** Names and addresses beyond the defaults (localhost, the machine's names, its LAN addresses now): config.json's `serve.san` and --san. */
  extraHosts?: string[]
  now?: Date
}

/**
 * Loads the CA and server certificate from the config directory, making them on first use and
 * reissuing the server certificate from the same CA (devices trust it as they did) when it is close
 * to expiry, not from that CA, or lacks a name it should have: one in `extraHosts`, or the machine's
 * own, such as a LAN address DHCP gave it since.
 */
export async function loadOrCreateServerTls(
  configDir: string,
  options: LoadOptions = {},
): Promise<ServedCertificate> {
  const now = options.now ?? new Date()
  await ensureConfigDir(configDir)
  return withConfigLock(configDir, async ({updateFileSet}) => {
    const stored = await readPair(configDir, 'caCert', 'caKey')
    const authority = stored?.pair ?? (await createHomeAuthority(options.extraHosts, now))
    const nameConstraints = readNameConstraints(authority.cert)
    const existing = stored && (await readPair(configDir, 'serverCert', 'serverKey'))
    const wanted = certificateHosts(options.extraHosts, nameConstraints)
    const addedHosts = existing ? missingHosts(subjectAltNames(existing.certificate), wanted) : []
    let server = existing?.pair
    let provenance: ServedCertificate['provenance'] = stored ? 'reused' : 'created'
    const usable =
      existing &&
      existing.certificate.checkIssued(stored.certificate) &&
      existing.certificate.verify(stored.certificate.publicKey) &&
      summarize(existing.certificate, now).daysLeft >= renewBeforeDays &&
      addedHosts.length === 0
    if (!server || !usable) {
      server = await issueServerCertificate(authority, wanted, now)
      await updateFileSet(certificateFiles(authority, server))
      if (stored) provenance = 'renewed'
    }
    const authorityCert = new X509Certificate(authority.cert)
    return {
      ...server,
      certificate: summarize(new X509Certificate(server.cert), now),
      authority: {
        file: configPath(configDir, 'caCert'),
        fingerprint: authorityCert.fingerprint256,
        cert: authority.cert,
        nameConstraints,
      },
      provenance,
      ...(addedHosts.length ? {addedHosts} : {}),
    }
  })
}

/** The stored CA, or undefined when there is none yet. */
export async function readAuthority(configDir: string): Promise<PemPair | undefined> {
  return (await readPair(configDir, 'caCert', 'caKey'))?.pair
}

function missingCertificates(configDir: string) {
  return setupError(`There is no CA in ${configDir} yet.`, [
    `Run: ${homeauthCommand('init')} (or ${homeauthCommand('serve')}, which makes one).`,
  ])
}

/** The stored CA as devices get it: its file, SHA-256 fingerprint and PEM, not its key; exit code 8 when there is none yet or it is not a certificate. */
export async function requireAuthority(
  configDir: string,
): Promise<NonNullable<ServedCertificate['authority']>> {
  const file = configPath(configDir, 'caCert')
  const [stored] = await readFileSetSnapshot(configDir, [configFiles.caCert])
  if (!stored) throw missingCertificates(configDir)
  let fingerprint: string
  try {
    fingerprint = parseCertificate(stored.text, file).fingerprint256
  } catch (error) {
    throw setupError(`${(error as Error).message}.`, recoverSuggestions.caCert, error)
  }
  return {file, fingerprint, cert: stored.text, nameConstraints: readNameConstraints(stored.text)}
}

export interface StoredCertificates {
  authority: CertificateSummary & {file: string; nameConstraints: NameConstraints | undefined}
  server: (CertificateSummary & {file: string}) | undefined
}

/** The stored CA and server certificate, summarised; exit code 8 when there is no CA. */
export async function describeStoredCertificates(
  configDir: string,
  now = new Date(),
): Promise<StoredCertificates> {
  const authority = await readPair(configDir, 'caCert', 'caKey')
  if (!authority) throw missingCertificates(configDir)
  const server = await readPair(configDir, 'serverCert', 'serverKey')
  return {
    authority: {
      ...summarize(authority.certificate, now),
      file: configPath(configDir, 'caCert'),
      nameConstraints: readNameConstraints(authority.pair.cert),
    },
    server: server && {...summarize(server.certificate, now), file: configPath(configDir, 'serverCert')},
  }
}

/**
 * Issues a new server certificate from the stored CA (no re-trust needed) for the stored host names
 * plus `addedHosts`, and stores it with the names added to config.json, as one set.
 */
export async function renewServerCertificate(
  configDir: string,
  addedHosts: string[],
  now = new Date(),
): Promise<CertificateSummary> {
  return withConfigLock(configDir, async ({updateFileSet}) => {
    const authority = await readAuthority(configDir)
    if (!authority) throw missingCertificates(configDir)
    const config = await readConfig(configDir)
    const sans = [...new Set([...(config?.serve.san ?? []), ...addedHosts])]
    const hosts = certificateHosts(sans, readNameConstraints(authority.cert))
    const server = await issueServerCertificate(authority, hosts, now)
    await updateFileSet([
      ...certificateFiles(authority, server),
      ...(config ? [configFile({...config, serve: withSetting(config.serve, 'san', sans)})] : []),
    ])
    return summarize(new X509Certificate(server.cert), now)
  })
}

/** Loads a certificate and key the user brings with --cert/--key, checking that they belong together. */
export async function loadProvidedTls(
  certFile: string,
  keyFile: string,
  now = new Date(),
): Promise<ServedCertificate> {
  const pair = {
    cert: await readUserFile({file: certFile, what: 'certificate', flag: '--cert'}),
    key: await readUserFile({file: keyFile, what: 'key', flag: '--key', secret: true}),
  }
  const certificate = checkPair(pair, {cert: certFile, key: keyFile}, [
    'Pass the certificate and the key that was made with it.',
  ])
  return {...pair, certificate: summarize(certificate, now), provenance: 'provided'}
}

import {X509Certificate} from 'node:crypto'

import {issueServerCertificate, type PemPair} from '../certificates/authority.js'
import {readNameConstraints} from '../certificates/constraints.js'
import {certificateHosts} from '../certificates/hosts.js'
import {certificateFiles, createHomeAuthority, readAuthority} from '../certificates/store.js'
import {
  configFile,
  configVersion,
  readConfig,
  type HomeauthConfig,
  type StoredUser,
} from '../config/config.js'
import {ExitCode, HomeauthError} from '../errors.js'
import {ensureConfigDir, withConfigLock} from '../config/files.js'
import {withSetting} from '../config/stored-settings.js'
import {hashPassword} from '../credentials/hash.js'
import {configPath} from '../paths.js'
import {signalReload, type ServerRecord} from '../daemon/state.js'
import {findUser, notRenamedError} from './users.js'
export interface InitAnswers {
  username: string
  /** The new password; or, when a re-run's password question was left empty, the stored hash to keep. */
  password: string | {storedHash: string}
  secret: string
  port: number
  /** Host names and addresses beyond localhost and this machine's own names and addresses. */
  extraHosts: string[]
  /** Make a new CA even when one exists (devices must then trust the new one). */
  newCa: boolean
}

/**
 * The stored user a re-run of init concerns: the one named `username`. Another name is refused, as
 * passwd refuses it, rather than taken as a rename of the first user: that locked out whoever signs
 * in with the old name without a word, and `init --force` is often run by scripts nobody watches.
 */
export function initUser(current: HomeauthConfig, username: string): StoredUser {
  const user = findUser(current, username)
  if (!user) throw initUserError(current, username)
  return user
}

/** The refusal of a name no stored user has (see `initUser`). */
export function initUserError(current: HomeauthConfig, username: string) {
  return notRenamedError(current, username, 'a re-run of init sets the password of a stored user')
}

export interface InitResult {
  configDir: string
  caFile: string
  caFingerprint: string
  username: string
  port: number
  hosts: string[]
  /** Whether an existing CA was kept (devices that trust it need nothing new). */
  caKept: boolean
  /** Whether --new-ca replaced an existing CA (every device must trust the new one). */
  caReplaced: boolean
  /** Whether the CA carries name constraints (may vouch only for the home's names and addresses). */
  caConstrained: boolean
  /** The running server that was told to reload, if any; only one that checks the stored hash takes new credentials. */
  signalledServer: Pick<ServerRecord, 'pid' | 'credentials' | 'logFile' | 'supervisor'> | undefined
}

interface InitCertificates {
  authority: PemPair
  existing: PemPair | undefined
  replaced: boolean
  constrained: boolean
  server: PemPair
  hosts: string[]
}

/**
 * The CA (the stored one unless `newCa`; a new one permits `extraHosts`) and a new server
 * certificate from it; a usage error when a kept CA may not vouch for one of `extraHosts`.
 */
async function makeCertificates(
  configDir: string,
  newCa: boolean,
  extraHosts: string[],
): Promise<InitCertificates> {
  const stored = await readAuthority(configDir)
  const existing = newCa ? undefined : stored
  const authority = existing ?? (await createHomeAuthority(extraHosts))
  const constraints = readNameConstraints(authority.cert)
  const hosts = certificateHosts(extraHosts, constraints)
  const server = await issueServerCertificate(authority, hosts)
  const replaced = newCa && stored !== undefined
  return {authority, existing, replaced, constrained: constraints !== undefined, server, hosts}
}

/**
 * The users after init: `username` with `passwordHash` in place of the stored user of that name
 * (see `initUser`), the others as they were. A kept hash keeps its time; a new one is set `now`.
 */
function usersAfterInit(
  current: HomeauthConfig | undefined,
  username: string,
  passwordHash: string,
  now: Date,
): StoredUser[] {
  const replaced = current && initUser(current, username)
  const passwordSetAt = replaced?.passwordHash === passwordHash ? replaced.passwordSetAt : now.toISOString()
  const user = {name: username, passwordHash, passwordSetAt}
  if (!current) return [user]
  return current.users.map((other) => (other === replaced ? user : other))
}

/**
 * Writes a complete configuration: the password as a scrypt hash, the CA (kept unless `newCa`),
 * a new server certificate, and config.json, all switched in by one rename. If anything fails
 * before that rename, the previous configuration is untouched. Users added with `user add` are kept:
 * on a re-run, init's questions are about one stored user (see `initUser`).
 */
export async function initialize(
  configDir: string,
  answers: InitAnswers,
  now = new Date(),
): Promise<InitResult> {
  await ensureConfigDir(configDir)
  const made = await withConfigLock(configDir, async ({updateFileSet}) => {
    // scrypt runs on libuv's thread pool: the hash is made while this thread makes the certificates.
    const [passwordHash, certificates] = await Promise.all([
      typeof answers.password === 'string' ? hashPassword(answers.password) : answers.password.storedHash,
      makeCertificates(configDir, answers.newCa, answers.extraHosts),
    ])
    const current = await readConfig(configDir).catch((error: unknown) => {
      // An invalid config.json is what init --force replaces: nothing in it to keep.
      if (error instanceof HomeauthError && error.exitCode === ExitCode.invalidSetup) return undefined
      throw error
    })
    const users = usersAfterInit(current, answers.username, passwordHash, now)
    // A renamed user's devices go with the old name; everyone else's are kept.
    const devices = current?.devices?.filter((device) => users.some((user) => user.name === device.user))
    const config: HomeauthConfig = {
      version: configVersion,
      users,
      secret: answers.secret,
      // The other serve settings (set with settings set) are kept; init asks only these.
      serve: withSetting(withSetting(current?.serve ?? {}, 'port', answers.port), 'san', answers.extraHosts),
      ...(devices ? {devices} : {}),
    }
    await updateFileSet([
      ...certificateFiles(certificates.authority, certificates.server),
      configFile(config),
    ])
    return certificates
  })
  const running = await signalReload(configDir)
  return {
    configDir,
    caFile: configPath(configDir, 'caCert'),
    caFingerprint: new X509Certificate(made.authority.cert).fingerprint256,
    username: answers.username,
    port: answers.port,
    hosts: made.hosts,
    caKept: made.existing !== undefined,
    caReplaced: made.replaced,
    caConstrained: made.constrained,
    signalledServer: running,
  }
}

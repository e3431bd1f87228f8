import {promises as fs} from 'node:fs'

import {credentialProblem} from '../credentials/credentials.js'
import {isDevicePasswordHash} from '../credentials/devices.js'
import {parsePasswordHash} from '../credentials/hash.js'
import {HomeauthError, errorCode, setupError} from '../errors.js'
import {homeauthCommand} from '../invocation.js'
import {isValidHost} from '../net/hosts.js'
import {configFiles, configPath} from '../paths.js'
import {notADirectoryError, privateFileMode, readSecretFile, type SetFile} from './files.js'
import {
  checkSetting,
  defaultPort,
  isStoredSettingName,
  storedSettingNames,
  type StoredSettings,
} from './stored-settings.js'

/** The shape this build writes; it reads this one and every older one. */
export const configVersion = 3

/** The port a server listens on: the one asked for, else config.json's, else 8443. */
export function serverPort(configured: number | undefined, asked?: number): number {
  return asked ?? configured ?? defaultPort
}

/** One person who may sign in: the password only as a salted scrypt hash. */
export interface StoredUser {
  /** NFC-normalised, so a name typed on a phone and on a terminal is one user. */
  name: string
  passwordHash: string
  /** When the password was last set (ISO 8601); null when a version-1 config did not record it. */
  passwordSetAt: string | null
}

/** A device with a password of its own (`device add`): the password only as an HMAC under the device key. */
export interface StoredDevice {
  name: string
  /** The user it signs in as. */
  user: string
  createdAt: string
  passwordHash: string
}

/**
 * What config.json holds (version 3): the users in the order they were added, the first one made by
 * `init`. `devices` is absent until the first `device add`: a version-3 file without it is read as
 * it always was, and a build before devices reads one with it (ignoring the devices, which then
 * cannot sign in), so the version stays 3.
 */
export interface HomeauthConfig {
  version: typeof configVersion
  users: StoredUser[]
  secret: string
  /** serve's settings that the user chose (init's port and host names among them); see stored-settings.ts. */
  serve: StoredSettings
  devices?: StoredDevice[]
}

/** Where versions 1 and 2 kept the settings that the `serve` section holds since version 3. */
interface TopLevelServeSettings {
  port: number
  /** Address to listen on; null for all interfaces. */
  host: string | null
  sans: string[]
}

/** What version 2 (several users, no serve section) stored. */
interface VersionTwoConfig extends TopLevelServeSettings {
  version: 2
  users: StoredUser[]
  secret: string
}

/** What version 1 (homeauth before several users) stored: one user name and hash, no time. */
interface VersionOneConfig extends TopLevelServeSettings {
  version: 1
  username: string
  passwordHash: string
  secret: string
}

type Check = (value: unknown) => string | undefined

const text: Check = (value) =>
  typeof value === 'string' && value !== '' ? undefined : 'must be non-empty text'

const userName: Check = (value) =>
  text(value) ??
  (credentialProblem('user name', value as string) ? 'must not contain control characters or ":"' : undefined)

const passwordHash: Check = (value) =>
  typeof value === 'string' && parsePasswordHash(value)
    ? undefined
    : 'must be a scrypt hash written by homeauth'

const passwordSetAt: Check = (value) =>
  value === null || (typeof value === 'string' && !Number.isNaN(Date.parse(value)))
    ? undefined
    : 'must be an ISO 8601 time or null'

/** Checks for the fields of versions 1 and 2 that version 3 keeps in its serve section. */
const topLevelServeChecks = {
  port: (value: unknown) =>
    Number.isInteger(value) && (value as number) >= 0 && (value as number) <= 65535
      ? undefined
      : 'must be a port number from 0 to 65535',
  host: (value: unknown) =>
    value === null || (typeof value === 'string' && isValidHost(value))
      ? undefined
      : 'must be an IP address, a host name or null',
  sans: (value: unknown) =>
    Array.isArray(value) && value.every((host) => typeof host === 'string' && isValidHost(host))
      ? undefined
      : 'must be a list of host names and IP addresses',
} satisfies Record<string, Check>

// Validators written out rather than a schema library: importing one costs about 100 ms of
// start-up on every command that reads the config, for a handful of fields.
const versionOneChecks: Record<string, Check> = {
  username: userName,
  passwordHash,
  secret: text,
  ...topLevelServeChecks,
}
const userChecks: Record<keyof StoredUser, Check> = {name: userName, passwordHash, passwordSetAt}

/** A device name: letters, digits, ".", "_" and "-", starting with a letter or digit, at most 64 characters. */
export const deviceNamePattern = /^[\p{L}\p{N}][\p{L}\p{N}._-]{0,63}$/u

const deviceChecks: Record<keyof StoredDevice, Check> = {
  name: (value) =>
    typeof value === 'string' && deviceNamePattern.test(value)
      ? undefined
      : 'must be letters, digits, ".", "_" or "-" (at most 64)',
  user: userName,
  createdAt: (value) =>
    typeof value === 'string' && !Number.isNaN(Date.parse(value)) ? undefined : 'must be an ISO 8601 time',
  passwordHash: (value) =>
    typeof value === 'string' && isDevicePasswordHash(value)
      ? undefined
      : 'must be a device password hash written by homeauth',
}

const recover = (file: string) => [
  `Fix ${file} by hand, or run: ${homeauthCommand('init --force')} (the CA is kept).`,
]

function checkFields(
  record: Record<string, unknown>,
  checks: Record<string, Check>,
  file: string,
  at = '',
): void {
  for (const [field, check] of Object.entries(checks)) {
    const problem = check(record[field])
    if (problem) throw setupError(`${file}: "${at}${field}" ${problem}.`, recover(file))
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

function parseUsers(value: unknown, file: string): StoredUser[] {
  if (!Array.isArray(value) || value.length === 0) {
    throw setupError(`${file}: "users" must be a non-empty list.`, recover(file))
  }
  const names = new Set<string>()
  return value.map((entry, index) => {
    const at = `users[${index}].`
    if (!isRecord(entry)) throw setupError(`${file}: "users[${index}]" must be an object.`, recover(file))
    checkFields(entry, userChecks, file, at)
    const name = (entry.name as string).normalize('NFC')
    if (names.has(name))
      throw setupError(`${file}: "${at}name" ${JSON.stringify(name)} is listed twice.`, recover(file))
    names.add(name)
    return {
      name,
      passwordHash: entry.passwordHash as string,
      passwordSetAt: entry.passwordSetAt as string | null,
    }
  })
}

function parseDevices(value: unknown, users: StoredUser[], file: string): StoredDevice[] {
  if (!Array.isArray(value)) throw setupError(`${file}: "devices" must be a list.`, recover(file))
  const names = new Set<string>()
  return value.map((entry, index) => {
    const at = `devices[${index}].`
    if (!isRecord(entry)) throw setupError(`${file}: "devices[${index}]" must be an object.`, recover(file))
    checkFields(entry, deviceChecks, file, at)
    const device = {
      name: (entry.name as string).normalize('NFC'),
      user: (entry.user as string).normalize('NFC'),
      createdAt: entry.createdAt as string,
      passwordHash: entry.passwordHash as string,
    }
    if (names.has(device.name))
      throw setupError(`${file}: "${at}name" ${JSON.stringify(device.name)} is listed twice.`, recover(file))
    names.add(device.name)
    if (!users.some((user) => user.name === device.user))
      throw setupError(`${file}: "${at}user" ${JSON.stringify(device.user)} is not a user.`, recover(file))
    return device
  })
}

/** Version 3's serve section for the settings versions 1 and 2 kept at the top level. */
function serveSection({port, host, sans}: TopLevelServeSettings): StoredSettings {
  return {port, ...(host === null ? {} : {host}), ...(sans.length > 0 ? {san: sans} : {})}
}

/**
 * The serve section, each setting checked with the rules serve applies to its flag. `ignored`
 * settings are left out unchecked: `settings set` and `settings reset` replace them, so a bad
 * stored value can be mended with the command its error names.
 */
function parseServeSection(value: unknown, file: string, ignored: ReadonlySet<string>): StoredSettings {
  if (!isRecord(value)) throw setupError(`${file}: "serve" must be an object.`, recover(file))
  const settings: Record<string, unknown> = {}
  for (const [name, setting] of Object.entries(value)) {
    if (ignored.has(name)) continue
    if (!isStoredSettingName(name)) {
      throw setupError(`${file}: "serve.${name}" is not a serve setting.`, [
        `Remove it from ${file}; the settings are ${storedSettingNames.join(', ')}.`,
      ])
    }
    try {
      checkSetting(name, setting)
    } catch (error) {
      if (!(error instanceof HomeauthError)) throw error
      throw setupError(`${file}: "serve.${name}": ${error.message}`, [
        `Change it with: ${homeauthCommand(`settings set --${name} VALUE`)}, or go back to the default: ${homeauthCommand(`settings reset ${name}`)}`,
      ])
    }
    settings[name] = setting
  }
  if ((settings.cert === undefined) !== (settings.key === undefined)) {
    throw setupError(`${file}: "serve.cert" and "serve.key" go together: one is missing.`, [
      `Set both with: ${homeauthCommand('settings set --cert FILE --key FILE')}, or remove both: ${homeauthCommand('settings reset cert')}`,
    ])
  }
  return settings
}

/**
 * Parses and validates config.json text; a problem is reported naming the field, as exit code 8.
 * Versions 1 (one `username` and `passwordHash`) and 2 (`users`) kept port, host and host names at
 * the top level: they are read into a serve section, and a version-1 user as one whose password
 * was set at an unknown time; whoever writes the config next writes version 3. A version newer than
 * this build's is refused rather than guessed at: its fields may mean something this build does not
 * know. `ignored` serve settings are left out unchecked (see `parseServeSection`).
 */
export function parseConfig(
  json: string,
  file: string,
  ignored: ReadonlySet<string> = new Set(),
): HomeauthConfig {
  let value: unknown
  try {
    value = JSON.parse(json)
  } catch {
    throw setupError(`${file} is not valid JSON (truncated or hand-edited?).`, recover(file))
  }
  if (!isRecord(value)) throw setupError(`${file} does not hold a JSON object.`, recover(file))
  const {version} = value
  if (Number.isInteger(version) && (version as number) > configVersion) {
    throw setupError(
      `${file} was written by a newer homeauth (config version ${version as number}; this one reads up to ${configVersion}).`,
      ['Upgrade homeauth to use this configuration.'],
    )
  }
  if (version === 1) {
    checkFields(value, versionOneChecks, file)
    const {username, passwordHash, secret, ...serve} = value as unknown as VersionOneConfig
    const users = [{name: username.normalize('NFC'), passwordHash, passwordSetAt: null}]
    return {version: configVersion, users, secret, serve: serveSection(serve)}
  }
  if (version !== 2 && version !== configVersion) {
    throw setupError(`${file}: "version" must be 1, 2 or ${configVersion}.`, recover(file))
  }
  const users = parseUsers(value.users, file)
  checkFields(value, {secret: text}, file)
  const {secret} = value as {secret: string}
  if (version === 2) {
    checkFields(value, topLevelServeChecks, file)
    return {version: configVersion, users, secret, serve: serveSection(value as unknown as VersionTwoConfig)}
  }
  const serve = parseServeSection(value.serve, file, ignored)
  if (value.devices === undefined) return {version, users, secret, serve}
  return {version, users, secret, serve, devices: parseDevices(value.devices, users, file)}
}

export function configFile(config: HomeauthConfig): SetFile {
  return {name: configFiles.config, data: `${JSON.stringify(config, null, 2)}\n`, mode: privateFileMode}
}

/**
 * Reads config.json from the config directory; undefined when `init` has not been run. `ignored`
 * serve settings are left out unchecked (see `parseServeSection`).
 */
export async function readConfig(
  configDir: string,
  ignored?: ReadonlySet<string>,
): Promise<HomeauthConfig | undefined> {
  const file = configPath(configDir, 'config')
  let json: string
  try {
    json = await readSecretFile(file)
  } catch (error) {
    if (errorCode(error) === 'ENOENT') return undefined
    if (errorCode(error) === 'ENOTDIR') throw notADirectoryError(configDir)
    throw error
  }
  return parseConfig(json, file, ignored)
}

/** The config read from `configDir`, or the exit-code-8 error telling the user to run `init` when there was none. */
export function initialisedConfig(config: HomeauthConfig | undefined, configDir: string): HomeauthConfig {
  if (!config) {
    throw setupError(`homeauth is not initialised in ${configDir}.`, [`Run: ${homeauthCommand('init')}`])
  }
  return config
}

/** Reads config.json, or fails with exit code 8 telling the user to run `init`. */
export async function requireConfig(configDir: string): Promise<HomeauthConfig> {
  return initialisedConfig(await readConfig(configDir), configDir)
}

export async function configExists(configDir: string): Promise<boolean> {
  return fs.access(configPath(configDir, 'config')).then(
    () => true,
    () => false,
  )
}

import {promises as fs} from 'node:fs'

import {isValidHost} from '../certificates/hosts.js'
import {credentialProblem} from '../credentials/credentials.js'
import {parsePasswordHash} from '../credentials/hash.js'
import {errorCode, setupError} from '../errors.js'
import {homeauthCommand} from '../invocation.js'
import {configFiles, configPath} from '../paths.js'
import {notADirectoryError, privateFileMode, readSecretFile, type SetFile} from './files.js'

export const configVersion = 1
export const defaultPort = 8443

/** What `init` stores in config.json; the password only as a salted scrypt hash. */
export interface HomeauthConfig {
  version: typeof configVersion
  username: string
  passwordHash: string
  secret: string
  port: number
  /** Address to listen on; null for all interfaces. */
  host: string | null
  /** Host names and addresses for the certificate beyond localhost and this machine's own. */
  sans: string[]
}

type Check = (value: unknown) => string | undefined

const text: Check = (value) =>
  typeof value === 'string' && value !== '' ? undefined : 'must be non-empty text'

// A validator written out rather than a schema library: importing one costs about 100 ms of
// start-up on every command that reads the config, for six fields.
const fieldChecks: Record<keyof HomeauthConfig, Check> = {
  version: (value) => (value === configVersion ? undefined : `must be ${configVersion}`),
  username: (value) =>
    text(value) ??
    (credentialProblem('user name', value as string)
      ? 'must not contain control characters or ":"'
      : undefined),
  passwordHash: (value) =>
    typeof value === 'string' && parsePasswordHash(value)
      ? undefined
      : 'must be a scrypt hash written by homeauth',
  secret: text,
  port: (value) =>
    Number.isInteger(value) && (value as number) >= 0 && (value as number) <= 65535
      ? undefined
      : 'must be a port number from 0 to 65535',
  host: (value) =>
    value === null || (typeof value === 'string' && isValidHost(value))
      ? undefined
      : 'must be an IP address, a host name or null',
  sans: (value) =>
    Array.isArray(value) && value.every((host) => typeof host === 'string' && isValidHost(host))
      ? undefined
      : 'must be a list of host names and IP addresses',
}

const recover = (file: string) => [
  `Fix ${file} by hand, or run: ${homeauthCommand('init --force')} (the CA is kept).`,
]

/** Parses and validates config.json text; a problem is reported naming the field, as exit code 8. */
export function parseConfig(json: string, file: string): HomeauthConfig {
  let value: unknown
  try {
    value = JSON.parse(json)
  } catch {
    throw setupError(`${file} is not valid JSON (truncated or hand-edited?).`, recover(file))
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw setupError(`${file} does not hold a JSON object.`, recover(file))
  }
  const record = value as Record<string, unknown>
  for (const [field, check] of Object.entries(fieldChecks)) {
    const problem = check(record[field])
    if (problem) throw setupError(`${file}: "${field}" ${problem}.`, recover(file))
  }
  const {version, username, passwordHash, secret, port, host, sans} = record as unknown as HomeauthConfig
  return {version, username, passwordHash, secret, port, host, sans}
}

export function configFile(config: HomeauthConfig): SetFile {
  return {name: configFiles.config, data: `${JSON.stringify(config, null, 2)}\n`, mode: privateFileMode}
}

/** Reads config.json from the config directory; undefined when `init` has not been run. */
export async function readConfig(configDir: string): Promise<HomeauthConfig | undefined> {
  const file = configPath(configDir, 'config')
  let json: string
  try {
    json = await readSecretFile(file)
  } catch (error) {
    if (errorCode(error) === 'ENOENT') return undefined
    if (errorCode(error) === 'ENOTDIR') throw notADirectoryError(configDir)
    throw error
  }
  return parseConfig(json, file)
}

/** Reads config.json, or fails with exit code 8 telling the user to run `init`. */
export async function requireConfig(configDir: string): Promise<HomeauthConfig> {
  const config = await readConfig(configDir)
  if (!config) {
    throw setupError(`homeauth is not initialised in ${configDir}.`, [`Run: ${homeauthCommand('init')}`])
  }
  return config
}

export async function configExists(configDir: string): Promise<boolean> {
  return fs.access(configPath(configDir, 'config')).then(
    () => true,
    () => false,
  )
}

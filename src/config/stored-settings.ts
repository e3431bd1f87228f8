import {isIP} from 'node:net'
import path from 'node:path'

import {usageError} from '../errors.js'
import {parseAuthListen} from '../net/auth-listener.js'
import {isValidHost} from '../net/hosts.js'

/**
 * serve's flags that are settings a user chooses for every run, as opposed to choices for one run
 * (--detach, --qr) and secrets (-u/-p, --password-stdin, --secret), which are never stored.
 * config.json's `serve` section keeps each under its flag's name, and `settings set` takes the same flags.
 */
export const storedSettingNames = [
  'port',
  'host',
  'san',
  'cert',
  'key',
  'secret-file',
  'realm',
  'frame-ancestors',
  'max-failures',
  'failure-window',
  'lockout',
  'trust-proxy',
  'auth-listen',
] as const

export type StoredSettingName = (typeof storedSettingNames)[number]

/** config.json's `serve` section: only the settings a user chose; a missing one has its default. */
export interface StoredSettings {
  port?: number
  /** Address to listen on; absent for all interfaces. */
  host?: string
  /** Host names and addresses for the certificate beyond localhost and this machine's own. */
  san?: string[]
  /** Absolute paths of the user's own certificate and key (always both). */
  cert?: string
  key?: string
  /** Absolute path of the file that holds the secret message. */
  'secret-file'?: string
  realm?: string
  'frame-ancestors'?: string[]
  'max-failures'?: number
  /** Seconds. */
  'failure-window'?: number
  /** Seconds. */
  lockout?: number
  'trust-proxy'?: string[]
  'auth-listen'?: string
}

export const defaultPort = 8443

/** The defaults of the settings that have one; the others are off (or all interfaces) until chosen. */
export const settingDefaults = {
  port: defaultPort,
  realm: 'homeauth',
  'max-failures': 5,
  'failure-window': 900,
  lockout: 60,
} as const satisfies StoredSettings

/** The settings that go together: setting or resetting one sets or resets both. */
export const settingPairs: Partial<Record<StoredSettingName, StoredSettingName>> = {cert: 'key', key: 'cert'}

export function isStoredSettingName(name: string): name is StoredSettingName {
  return (storedSettingNames as readonly string[]).includes(name)
}

/** Checks a realm once, at start-up: it travels in a quoted-string (RFC 9110 §5.6.4). */
export function realmProblem(realm: string): string | undefined {
  // eslint-disable-next-line no-control-regex
  if (realm === '' || /["\\\u0000-\u001f\u007f]/.test(realm)) {
    return `The realm ${JSON.stringify(realm)} must be non-empty text without quotes, backslashes or control characters.`
  }
  return undefined
}

/** Checks the --trust-proxy values (IP addresses or CIDR ranges), with one usage error for a bad one. */
export function checkTrustedProxies(values: string[]): void {
  for (const value of values) {
    const [address = '', prefix, ...rest] = value.split('/')
    const version = isIP(address)
    const bits = version === 4 ? 32 : 128
    const validPrefix = prefix === undefined || (/^\d{1,3}$/.test(prefix) && Number(prefix) <= bits)
    if (version === 0 || !validPrefix || rest.length > 0) {
      throw usageError(`--trust-proxy ${JSON.stringify(value)} is not an IP address or CIDR range.`, [
        'Pass the address your reverse proxy connects from, e.g. --trust-proxy 127.0.0.1 or --trust-proxy 192.168.1.0/24 (repeatable).',
      ])
    }
    // Trusting every address would let any client name the address its failed logins count against.
    if (prefix !== undefined && Number(prefix) === 0) {
      throw usageError(
        `--trust-proxy ${value} would trust every address, so any client could pick its own.`,
        ['Pass only the addresses of your reverse proxies.'],
      )
    }
  }
}

/** A CSP source expression for frame-ancestors: an http(s) origin (wildcards allowed) or 'self'. */
const frameSource = /^(https?:\/\/[a-z0-9.*-]+(:\d{1,5})?|'self')$/i

export function checkFrameAncestors(sources: string[]): void {
  const badSource = sources.find((source) => !frameSource.test(source))
  if (badSource !== undefined) {
    throw usageError(`--frame-ancestors ${JSON.stringify(badSource)} is not an origin.`, [
      "Pass origins like https://dashboard.local:8123, or 'self'.",
    ])
  }
}

type Check = (name: StoredSettingName, value: unknown) => void

const wholeNumber =
  (min: number, max = Number.MAX_SAFE_INTEGER): Check =>
  (name, value) => {
    if (!Number.isInteger(value) || (value as number) < min || (value as number) > max) {
      const range = max === Number.MAX_SAFE_INTEGER ? `${min} or more` : `from ${min} to ${max}`
      throw usageError(`--${name} must be a whole number ${range}.`)
    }
  }

const text: Check = (name, value) => {
  if (typeof value !== 'string' || value === '') throw usageError(`--${name} must be non-empty text.`)
}

const absolutePath: Check = (name, value) => {
  text(name, value)
  if (!path.isAbsolute(value as string)) throw usageError(`--${name} must be an absolute path.`)
}

const list =
  (each: Check): Check =>
  (name, value) => {
    if (!Array.isArray(value) || value.length === 0) throw usageError(`--${name} must be a list of values.`)
    for (const one of value) each(name, one)
  }

const host: Check = (name, value) => {
  text(name, value)
  if (!isValidHost(value as string)) {
    throw usageError(`--${name} ${JSON.stringify(value)} is neither a host name nor an IP address.`, [
      'Pass names like pi.home.arpa or addresses like 192.168.1.20.',
    ])
  }
}

/** The rules of each setting: the same for a flag given to serve or to settings set and for config.json. */
const checks: Record<StoredSettingName, Check> = {
  port: wholeNumber(0, 65535),
  host,
  san: list(host),
  cert: absolutePath,
  key: absolutePath,
  'secret-file': absolutePath,
  realm: (name, value) => {
    text(name, value)
    const problem = realmProblem(value as string)
    if (problem) throw usageError(problem, ['Pass another --realm.'])
  },
  'frame-ancestors': (name, value) => {
    list(text)(name, value)
    checkFrameAncestors(value as string[])
  },
  'max-failures': wholeNumber(1),
  'failure-window': wholeNumber(1),
  lockout: wholeNumber(1),
  'trust-proxy': (name, value) => {
    list(text)(name, value)
    checkTrustedProxies(value as string[])
  },
  'auth-listen': (name, value) => {
    text(name, value)
    const address = parseAuthListen(value as string)
    if ('socketPath' in address && address.socketPath !== value) {
      throw usageError(`--${name} must be an absolute socket path.`)
    }
  },
}

/** Checks one setting's value (a usage error naming its flag); paths must already be absolute (see `storableValue`). */
export function checkSetting(name: StoredSettingName, value: unknown): void {
  checks[name](name, value)
}

const absolute = (file: string) => path.resolve(file)

/** Values that name a file are stored made absolute: the server may start in another directory (a unit, --detach). */
const storedForm: Partial<Record<StoredSettingName, (value: string) => string>> = {
  cert: absolute,
  key: absolute,
  'secret-file': absolute,
  'auth-listen': (value) => {
    const address = parseAuthListen(value)
    return 'socketPath' in address ? address.socketPath : value
  },
  san: (value) => value.toLowerCase(),
}

/** A flag's value as it is stored and handed to another process: file names made absolute, host names lower-case. */
export function storableValue<T extends string | number>(name: StoredSettingName, value: T): T {
  const convert = storedForm[name]
  return typeof value === 'string' && convert ? (convert(value) as T) : value
}

/** `settings` with `name` set to `value`, or without it (back to its default) when `value` is undefined or an empty list. */
export function withSetting<N extends StoredSettingName>(
  settings: StoredSettings,
  name: N,
  value: StoredSettings[N],
): StoredSettings {
  const {[name]: _replaced, ...others} = settings
  const empty = value === undefined || (Array.isArray(value) && value.length === 0)
  return empty ? others : {...others, [name]: value}
}

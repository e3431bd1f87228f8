import {readConfig, type HomeauthConfig} from './config.js'
import {
  checkSetting,
  settingDefaults,
  storableValue,
  storedSettingNames,
  type StoredSettings,
} from './stored-settings.js'

/** What a server runs with, read from its flags and config.json's serve section (see `resolveServeSettings`). */
export interface ServeSettings {
  configDir: string
  port?: number
  host?: string
  /** --cert/--key: the user's own certificate and key. */
  tlsFiles?: {cert: string; key: string}
  /** --san given to serve: added for this run to the config's extra host names. */
  extraHosts: string[]
  /** --secret */
  secret?: string
  /** --secret-file */
  secretFile?: string
  realm: string
  frameAncestors?: string[]
  throttle: {maxFailures: number; windowMs: number; lockoutMs: number}
  /** --trust-proxy: addresses and CIDR ranges of the reverse proxies in front. */
  trustProxy: string[]
  /** --log-file: where a detached server writes its log. */
  logFile?: string
  /** --auth-listen: a loopback ADDRESS:PORT or a Unix socket path for /auth alone, over plain HTTP. */
  authListen?: string
}

/** The settings a start runs with: config.json, read once, and the settings it gives where no flag does. */
export interface ResolvedServeSettings extends ServeSettings {
  /** Undefined when `init` has not been run. */
  config: HomeauthConfig | undefined
  port: number
}

/** What serve was given on its command line: the settings' flags (undefined when not given) and the rest. */
export interface ServeRequest {
  configDir: string
  given: StoredSettings
  /** --secret: never stored, and it replaces a stored secret file for the run. */
  secret?: string
  logFile?: string
}

/** The settings given on a command line, each checked and in its stored form (see `storableValue`). */
export function givenSettings(flags: Partial<Record<string, unknown>>): StoredSettings {
  const given: Record<string, unknown> = {}
  for (const name of storedSettingNames) {
    const value = flags[name]
    if (value === undefined) continue
    const stored = Array.isArray(value)
      ? value.map((one: string | number) => storableValue(name, one))
      : storableValue(name, value as string | number)
    checkSetting(name, stored)
    given[name] = stored
  }
  return given
}

/**
 * Reads config.json once for a whole start. Each setting is the flag's value, else the stored one,
 * else its default: a flag wins for that run only. --san is the exception: its names are added to
 * the stored ones (see loadTls), so the certificate keeps every name it had.
 */
export async function resolveServeSettings(request: ServeRequest): Promise<ResolvedServeSettings> {
  const config = await readConfig(request.configDir)
  const {given} = request
  const stored = config?.serve ?? {}
  const chosen = {...settingDefaults, ...stored, ...given}
  const tlsFiles = given.cert !== undefined ? given : stored
  const secretFile =
    given['secret-file'] ?? (request.secret === undefined ? stored['secret-file'] : undefined)
  return {
    configDir: request.configDir,
    config,
    port: chosen.port,
    host: chosen.host,
    tlsFiles: tlsFiles.cert && tlsFiles.key ? {cert: tlsFiles.cert, key: tlsFiles.key} : undefined,
    extraHosts: given.san ?? [],
    secret: request.secret,
    secretFile,
    realm: chosen.realm,
    frameAncestors: chosen['frame-ancestors'],
    throttle: {
      maxFailures: chosen['max-failures'],
      windowMs: chosen['failure-window'] * 1000,
      lockoutMs: chosen.lockout * 1000,
    },
    trustProxy: chosen['trust-proxy'] ?? [],
    logFile: request.logFile,
    authListen: chosen['auth-listen'],
  }
}

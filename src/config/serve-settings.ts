import {readConfig, serverPort, type HomeauthConfig} from './config.js'

/**
 * What `serve` was asked for on its command line: the foreground server runs from these settings
 * (config.json filling what they leave out), and a detached one is started from the same flags.
 */
export interface ServeSettings {
  configDir: string
  port?: number
  host?: string
  /** --cert/--key: the user's own certificate and key. */
  tlsFiles?: {cert: string; key: string}
  /** --san: added to the config's extra host names. */
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

/** The settings a start runs with: config.json, read once, and the host and port it gives where no flag does. */
export interface ResolvedServeSettings extends ServeSettings {
  /** Undefined when `init` has not been run. */
  config: HomeauthConfig | undefined
  port: number
}

/** Reads config.json once for a whole start and fills in what the flags leave to it. */
export async function resolveServeSettings(settings: ServeSettings): Promise<ResolvedServeSettings> {
  const config = await readConfig(settings.configDir)
  return {
    ...settings,
    config,
    host: settings.host ?? config?.host ?? undefined,
    port: serverPort(config?.port, settings.port),
  }
}

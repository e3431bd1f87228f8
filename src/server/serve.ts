import {loadOrCreateServerTls, loadProvidedTls, type ServedCertificate} from '../certificates/store.js'
import {parseExtraHosts} from '../certificates/hosts.js'
import {defaultPort, readConfig, requireConfig} from '../config/config.js'
import type {Credentials} from '../credentials/credentials.js'
import {createHashedVerifier, createPlainVerifier, type CredentialVerifier} from '../credentials/verifier.js'
import {detectSupervisor} from '../daemon/supervisor.js'
import {ExitCode, HomeauthError, usageError} from '../errors.js'
import {homeauthCommand} from '../invocation.js'
import type {AccessLogEntry} from '../web/access-log.js'
import {createApp, createAuthApp, type AuthAppOptions} from '../web/app.js'
import {defaultRealm, realmProblem, type FailedLogin} from '../web/basic-auth.js'
import type {UntrustedProxy} from '../web/forward-auth.js'
import {bracketHost} from '../net/address.js'
import {isWildcardHost, lanAddresses, machineNames} from '../net/hosts.js'
import {startServer, type Listener, type Timeouts} from '../net/listen.js'
import {
  describeAuthAddress,
  parseAuthListen,
  startAuthListener,
  type AuthListener,
} from '../net/auth-listener.js'
import {createPlainApp, type UnencryptedCredentials} from '../web/plain-http.js'
import {clearState, findRunningServer, writeState} from '../daemon/state.js'
import {LoginThrottle, type ThrottleOptions} from '../web/throttle.js'
import {checkTrustedProxies} from '../web/trusted-proxies.js'

/**
 * What `serve` was asked for on its command line, in the server's terms: the foreground server
 * runs from these settings (the config filling what they leave out), and a detached one is
 * started with a command line and environment derived from them.
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

/** What the server runs with: the settings, resolved credentials and secret, and where it reports. */
export interface ServeOptions {
  configDir: string
  /** Credentials given at start-up; without them, the hash stored by `init` in config.json is used. */
  credentials?: Credentials
  secret: string
  realm?: string
  /** Address to listen on; the config's when left out, else all interfaces. */
  host?: string
  /** The config's when left out, else 8443. */
  port?: number
  /** The user's own certificate and key (--cert/--key) instead of the local CA's. */
  tlsFiles?: {cert: string; key: string}
  /** Host names and addresses (--san) for a certificate homeauth makes, beside config.json's `sans`. */
  extraHosts?: string[]
  frameAncestors?: string[]
  timeouts?: Partial<Timeouts>
  onRequest?: (entry: AccessLogEntry) => void
  onError?: (error: Error) => void
  /** Told what a reload (SIGHUP, or the periodic certificate check) changed. */
  onReload?: (message: string) => void
  /** Failed-login limits (see LoginThrottle); the defaults otherwise. */
  throttle?: Partial<ThrottleOptions>
  /** Addresses and CIDR ranges of the reverse proxies whose X-Forwarded-For is believed. */
  trustProxy?: string[]
  /** Told once, the first time a local address asks /auth with forwarding headers without being trusted. */
  onUntrustedProxy?: (proxy: UntrustedProxy) => void
  onFailedLogin?: (failure: FailedLogin) => void
  /** A plain-HTTP request carried credentials (refused unread): its password has been exposed. */
  onUnencryptedCredentials?: (request: UnencryptedCredentials) => void
  /** Where a detached server logs, recorded in state.json for status and logs. */
  logFile?: string
  /** A loopback ADDRESS:PORT or a Unix socket path that serves /auth alone over plain HTTP. */
  authListen?: string
}

export interface HomeauthServer {
  listener: Listener
  /** The plain-HTTP /auth listener of --auth-listen, when asked for. */
  authListener?: AuthListener
  tls: ServedCertificate
  /** Where to open the page: the bound address, or loopback, the machine's names and LAN addresses. */
  urls: string[]
  /** Reads the stored credentials and the certificate again; new connections and requests use them. */
  reload(): Promise<void>
  /** Stops gracefully and removes state.json. */
  close(): Promise<void>
}

/** A long-running server checks its certificate this often, renewing it when fewer than 30 days are left. */
const certificateCheckMs = 12 * 60 * 60 * 1000

function urlFor(host: string, port: number): string {
  return `https://${bracketHost(host)}:${port}/`
}

/** The URLs to show for a server bound to `host`, most useful first. */
export function serverUrls(host: string, port: number): string[] {
  const hosts = isWildcardHost(host)
    ? [
        'localhost',
        ...machineNames().slice(1),
        ...lanAddresses().filter((address) => host === '::' || !address.includes(':')),
      ]
    : [host]
  return hosts.map((name) => urlFor(name, port))
}

/** A CSP source expression for frame-ancestors: an http(s) origin (wildcards allowed) or 'self'. */
const frameSource = /^(https?:\/\/[a-z0-9.*-]+(:\d{1,5})?|'self')$/i

function checkOptions(options: ServeOptions): void {
  const realm = realmProblem(options.realm ?? defaultRealm)
  if (realm) throw usageError(realm, ['Pass another --realm.'])
  parseExtraHosts(options.extraHosts ?? [])
  checkTrustedProxies(options.trustProxy ?? [])
  if (options.authListen !== undefined) parseAuthListen(options.authListen)
  const badSource = options.frameAncestors?.find((source) => !frameSource.test(source))
  if (badSource !== undefined) {
    throw usageError(`--frame-ancestors ${JSON.stringify(badSource)} is not an origin.`, [
      "Pass origins like https://dashboard.local:8123, or 'self'.",
    ])
  }
}

/** The verifier for this run: the start-up credentials alone, else every user stored in config.json. */
async function loadVerifier(options: ServeOptions): Promise<CredentialVerifier> {
  if (options.credentials) return createPlainVerifier(options.credentials)
  return createHashedVerifier((await requireConfig(options.configDir)).users)
}

function loadTls(options: ServeOptions): Promise<ServedCertificate> {
  return options.tlsFiles
    ? loadProvidedTls(options.tlsFiles.cert, options.tlsFiles.key)
    : loadOrCreateServerTls(options.configDir, {extraHosts: options.extraHosts})
}

/** The options with config.json's host and port where none are given (the certificate store adds its `sans`). */
async function withConfigDefaults(options: ServeOptions): Promise<ServeOptions & {port: number}> {
  const config = await readConfig(options.configDir)
  return {
    ...options,
    host: options.host ?? config?.host ?? undefined,
    port: options.port ?? config?.port ?? defaultPort,
  }
}

/** Starts the --auth-listen listener, if asked for, with the main app's verifier, throttle and report. */
async function startForwardAuthListener(
  options: ServeOptions,
  shared: Pick<AuthAppOptions, 'verifier' | 'throttle' | 'onUntrustedProxy'>,
): Promise<AuthListener | undefined> {
  if (options.authListen === undefined) return undefined
  const app = createAuthApp({
    ...shared,
    realm: options.realm,
    trustProxy: options.trustProxy,
    onFailedLogin: options.onFailedLogin,
    onRequest: options.onRequest,
    onError: options.onError,
  })
  return startAuthListener({
    handler: app,
    address: parseAuthListen(options.authListen),
    timeouts: options.timeouts,
  })
}

/** Loads or makes the certificates, builds the app, starts listening and records state.json: the whole of `homeauth serve`. */
export async function startHomeauth(given: ServeOptions): Promise<HomeauthServer> {
  const options = await withConfigDefaults(given)
  checkOptions(options)
  const other = await findRunningServer(options.configDir)
  if (other) {
    throw new HomeauthError(
      `homeauth is already running on ${options.configDir} (PID ${other.pid}, ${other.url}).`,
      {
        exitCode: ExitCode.portUnavailable,
        suggestions: [`Stop it with: ${homeauthCommand('stop')}, or use another --config-dir.`],
      },
    )
  }
  let verifier = await loadVerifier(options)
  const tls = await loadTls(options)
  const throttle = new LoginThrottle(options.throttle)
  let untrustedProxyReported = false
  const onUntrustedProxy = (proxy: UntrustedProxy) => {
    if (untrustedProxyReported) return
    untrustedProxyReported = true
    options.onUntrustedProxy?.(proxy)
  }
  // Both apps hand out the CA they are built with: a reload that finds a new CA builds them again.
  const buildApps = (authority: ServedCertificate['authority']) => ({
    app: createApp({
      secret: options.secret,
      verifier: {check: (candidate) => verifier.check(candidate)},
      realm: options.realm,
      frameAncestors: options.frameAncestors,
      throttle,
      trustProxy: options.trustProxy,
      onUntrustedProxy,
      onFailedLogin: options.onFailedLogin,
      onRequest: options.onRequest,
      onError: options.onError,
      authority,
    }),
    plainApp: createPlainApp({
      authority,
      onRequest: options.onRequest,
      onUnencryptedCredentials: options.onUnencryptedCredentials,
      onError: options.onError,
    }),
  })
  let apps = buildApps(tls.authority)
  const listener = await startServer({
    handler: (req, res) => apps.app(req, res),
    plainHandler: (req, res) => apps.plainApp(req, res),
    tls,
    host: options.host,
    port: options.port,
    timeouts: options.timeouts,
  })
  const authListener = await startForwardAuthListener(options, {
    verifier: {check: (candidate) => verifier.check(candidate)},
    throttle,
    onUntrustedProxy,
  }).catch(async (error: unknown) => {
    await listener.close()
    throw error
  })
  const urls = serverUrls(listener.host, listener.port)
  await writeState(options.configDir, {
    pid: process.pid,
    url: urls[0]!,
    host: listener.host,
    startedAt: new Date().toISOString(),
    logFile: options.logFile ?? null,
    credentials: options.credentials ? 'startup' : 'stored',
    supervisor: detectSupervisor(process.env),
    ...(authListener ? {authListen: describeAuthAddress(authListener.address)} : {}),
  })

  async function reloadTls(): Promise<void> {
    const next = await loadTls(options)
    if (next.certificate.fingerprint !== server.tls.certificate.fingerprint) {
      listener.setTls(next)
      options.onReload?.(
        `now serving a new server certificate, server certificate fingerprint ${next.certificate.fingerprint} (valid until ${next.certificate.notAfter.toISOString().slice(0, 10)})`,
      )
    }
    if (next.authority?.fingerprint !== server.tls.authority?.fingerprint) {
      apps = buildApps(next.authority)
      options.onReload?.(
        next.authority
          ? `now handing out a new CA to devices, CA fingerprint ${next.authority.fingerprint}`
          : 'now handing out no CA to devices',
      )
    }
    server.tls = next
  }
  const certificateCheck = setInterval(
    () => void reloadTls().catch((error: Error) => options.onError?.(error)),
    certificateCheckMs,
  )
  certificateCheck.unref()

  const server: HomeauthServer = {
    listener,
    authListener,
    tls,
    urls,
    async reload() {
      if (!options.credentials) {
        // A new verifier comes with a new cache of verified logins: a removed user's is forgotten at once.
        verifier = await loadVerifier(options)
        options.onReload?.('credentials read again from config.json')
      }
      await reloadTls()
    },
    async close() {
      clearInterval(certificateCheck)
      await Promise.all([listener.close(), authListener?.close()])
      await clearState(options.configDir, process.pid)
    },
  }
  return server
}

/**
 * Resolves with the signal's name once SIGINT or SIGTERM has shut the server down gracefully
 * (a second one cuts the remaining connections at once). SIGHUP reloads credentials and certificate.
 */
export function serveUntilSignal(
  server: HomeauthServer,
  onReloadError: (error: Error) => void,
): Promise<NodeJS.Signals> {
  const onHangup = () => void server.reload().catch(onReloadError)
  process.on('SIGHUP', onHangup)
  return new Promise((resolve) => {
    let received: NodeJS.Signals | undefined
    const onSignal = (signal: NodeJS.Signals) => {
      if (received) {
        server.authListener?.closeAllConnections()
        return void server.listener.closeAllConnections()
      }
      received = signal
      void server.close().then(() => {
        process.off('SIGINT', onSignal)
        process.off('SIGTERM', onSignal)
        process.off('SIGHUP', onHangup)
        resolve(signal)
      })
    }
    process.on('SIGINT', onSignal)
    process.on('SIGTERM', onSignal)
  })
}

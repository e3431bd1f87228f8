import type {RequestListener} from 'node:http'

import {loadOrCreateServerTls, loadProvidedTls, type ServedCertificate} from '../certificates/store.js'
import {parseExtraHosts} from '../certificates/hosts.js'
import {initialisedConfig, readConfig, type HomeauthConfig, type StoredDevice} from '../config/config.js'
import {requireDeviceKey} from '../config/devices.js'
import type {ResolvedServeSettings} from '../config/serve-settings.js'
import {
  checkFrameAncestors,
  checkTrustedProxies,
  realmProblem,
  settingDefaults,
} from '../config/stored-settings.js'
import type {Credentials} from '../credentials/credentials.js'
import {createDeviceVerifier, type DeviceVerifier} from '../credentials/devices.js'
import {createHashedVerifier, createPlainVerifier, type CredentialVerifier} from '../credentials/verifier.js'
import {watchCertificate, type CertificateWatchTiming} from './certificate-watch.js'
import {DeviceSightings} from './device-sightings.js'
import {detectSupervisor} from '../daemon/supervisor.js'
import {ExitCode, HomeauthError, usageError} from '../errors.js'
import {homeauthCommand} from '../invocation.js'
import {createApp, createAuthApp, type AuthAppOptions} from '../web/app.js'
import {defaultRealm} from '../web/basic-auth.js'
import type {ServerEvents} from '../web/events.js'
import {bracketHost} from '../net/address.js'
import {isWildcardHost, lanAddresses, machineNames} from '../net/hosts.js'
import {
  startServer,
  type ConnectionLimits,
  type ConnectionPolicy,
  type Listener,
  type Timeouts,
} from '../net/listen.js'
import {
  describeAuthAddress,
  parseAuthListen,
  startAuthListener,
  type AuthListener,
} from '../net/auth-listener.js'
import {createPlainApp} from '../web/plain-http.js'
import {clearState, findRunningServer, writeState} from '../daemon/state.js'
import {LoginThrottle, type ThrottleOptions} from '../web/throttle.js'
import {proxyTrust} from '../web/trusted-proxies.js'
import {controlHandler} from '../web/control.js'
import {SignInLog} from '../web/sign-ins.js'
import {startControlListener, type ControlListener} from '../net/control-socket.js'
import {configPath} from '../paths.js'

/** What the server runs with: the resolved settings, credentials and secret, and where it reports. */
export interface ServeOptions
  extends
    Partial<Omit<ResolvedServeSettings, 'config' | 'port' | 'secret' | 'secretFile' | 'throttle'>>,
    Partial<ServerEvents> {
  configDir: string
  /** config.json as read once for this start (see resolveServeSettings); undefined before `init`. */
  config: HomeauthConfig | undefined
  port: number
  /** Credentials given at start-up; without them, the hash stored by `init` in config.json is used. */
  credentials?: Credentials
  secret: string
  timeouts?: Partial<Timeouts>
  /** Connections open at once, in all and per client; the defaults otherwise (tests lower them). */
  connections?: Partial<ConnectionLimits>
  /** Failed-login limits (see LoginThrottle); the defaults otherwise. */
  throttle?: Partial<ThrottleOptions>
  /** How often the certificate's hosts and expiry are checked (see watchCertificate); the defaults otherwise. */
  certificateWatch?: Partial<CertificateWatchTiming>
}

export interface HomeauthServer {
  listener: Listener
  /** The plain-HTTP /auth listener of --auth-listen, when asked for. */
  authListener?: AuthListener
  /** The control socket in the config directory, for `status --clients` and `unlock`. */
  controlListener: ControlListener
  tls: ServedCertificate
  /** Where to open the page: the bound address, or loopback, the machine's names and LAN addresses. */
  urls: string[]
  /** Reads the stored credentials and the certificate again; new connections and requests use them. */
  reload(): Promise<void>
  /** Stops gracefully and removes state.json. */
  close(): Promise<void>
}

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

function checkOptions(options: ServeOptions): void {
  const realm = realmProblem(options.realm ?? defaultRealm)
  if (realm) throw usageError(realm, ['Pass another --realm.'])
  parseExtraHosts(options.extraHosts ?? [])
  checkTrustedProxies(options.trustProxy ?? [])
  if (options.authListen !== undefined) parseAuthListen(options.authListen)
  checkFrameAncestors(options.frameAncestors ?? [])
}

/** Refuses to start a second server on one config directory: they would share state.json and the certificates. */
async function refuseSecondServer(configDir: string): Promise<void> {
  const other = await findRunningServer(configDir)
  if (other) {
    throw new HomeauthError(`homeauth is already running on ${configDir} (PID ${other.pid}, ${other.url}).`, {
      exitCode: ExitCode.portUnavailable,
      suggestions: [`Stop it with: ${homeauthCommand('stop')}, or use another --config-dir.`],
    })
  }
}

/** The verifier for this run: the start-up credentials alone, else every user stored in config.json. */
function createVerifier(options: ServeOptions, config: HomeauthConfig | undefined): CredentialVerifier {
  if (options.credentials) return createPlainVerifier(options.credentials)
  return createHashedVerifier(initialisedConfig(config, options.configDir).users)
}

/** The stored devices' passwords, checked beside the stored users' (none with credentials given at start-up). */
async function createDeviceCheck(
  options: ServeOptions,
  config: HomeauthConfig | undefined,
): Promise<DeviceVerifier<StoredDevice> | undefined> {
  const devices = config?.devices ?? []
  if (options.credentials || devices.length === 0) return undefined
  return createDeviceVerifier(await requireDeviceKey(options.configDir), devices)
}

function loadTls(options: ServeOptions, config: HomeauthConfig | undefined): Promise<ServedCertificate> {
  return options.tlsFiles
    ? loadProvidedTls(options.tlsFiles.cert, options.tlsFiles.key)
    : loadOrCreateServerTls(options.configDir, {
        extraHosts: [...(config?.serve.san ?? []), ...(options.extraHosts ?? [])],
      })
}

type SharedAuth = Pick<AuthAppOptions, 'verifier' | 'devices' | 'throttle' | 'onUntrustedProxy'> & {
  signIns: SignInLog
}

/**
 * What a reload replaces: the verifier of the stored users (with its cache of verified logins), the
 * devices' passwords, the certificate, and the apps built with its CA. Both apps hand out the CA they are built with,
 * so a new CA means new apps.
 */
class Site {
  readonly auth: SharedAuth
  private apps: {app: RequestListener; plainApp: RequestListener}

  constructor(
    private readonly options: ServeOptions,
    private verifier: CredentialVerifier,
    private devices: DeviceVerifier<StoredDevice> | undefined,
    private readonly sightings: DeviceSightings,
    public tls: ServedCertificate,
  ) {
    let untrustedProxyReported = false
    this.auth = {
      verifier: {check: (candidate) => this.verifier.check(candidate)},
      devices: {
        signIn: (credentials, address) => {
          const device = this.devices?.identify(credentials)
          if (device === undefined) return undefined
          this.sightings.record(device, address)
          return device.name
        },
      },
      throttle: new LoginThrottle(options.throttle),
      signIns: new SignInLog(),
      onUntrustedProxy: (proxy) => {
        if (untrustedProxyReported) return
        untrustedProxyReported = true
        options.onUntrustedProxy?.(proxy)
      },
    }
    this.apps = this.buildApps(tls.authority)
  }

  readonly handler: RequestListener = (req, res) => this.apps.app(req, res)
  readonly plainHandler: RequestListener = (req, res) => this.apps.plainApp(req, res)

  private buildApps(authority: ServedCertificate['authority']): Site['apps'] {
    const {options} = this
    return {
      app: createApp({
        ...this.auth,
        secret: options.secret,
        realm: options.realm,
        frameAncestors: options.frameAncestors,
        trustProxy: options.trustProxy,
        onFailedLogin: options.onFailedLogin,
        onRequest: options.onRequest,
        onError: options.onError,
        authority,
        credentialsAtStartup: options.credentials !== undefined,
      }),
      plainApp: createPlainApp({
        authority,
        credentialsAtStartup: options.credentials !== undefined,
        onRequest: options.onRequest,
        onUnencryptedCredentials: options.onUnencryptedCredentials,
        onError: options.onError,
      }),
    }
  }

  /** The reload in progress, if any: reloads run one after another, so an older certificate never replaces a newer one. */
  private reloading: Promise<void> = Promise.resolve()

  private exclusive(task: () => Promise<void>): Promise<void> {
    const run = this.reloading.then(task)
    this.reloading = run.catch(() => {})
    return run
  }

  /** Resolves once no reload runs: a reissue under way finishes its files before the server stops. */
  settled(): Promise<void> {
    return this.reloading
  }

  /** Reads config.json once: the stored users again (unless the credentials came at start-up), then the certificate. */
  reload(listener: Listener): Promise<void> {
    return this.exclusive(async () => {
      const {options} = this
      const config = await readConfig(options.configDir)
      if (!options.credentials) {
        const devices = await createDeviceCheck(options, config)
        // A new verifier comes with a new cache of verified logins: a removed user's is forgotten at once.
        this.verifier = createVerifier(options, config)
        // A revoked device's password stops signing in with the next request.
        this.devices = devices
        this.sightings.retain(config?.devices ?? [])
        options.onReload?.('credentials read again from config.json')
      }
      await this.swapTls(listener, config)
    })
  }

  /** Loads the certificate again, reissuing it when it is due or lacks a host (see loadOrCreateServerTls). */
  reloadTls(listener: Listener): Promise<void> {
    return this.exclusive(async () => this.swapTls(listener, await readConfig(this.options.configDir)))
  }

  /**
   * Serves a renewed or replaced certificate (to new connections; open ones keep theirs) and hands
   * out a new CA, saying in one line each what changed.
   */
  private async swapTls(listener: Listener, config: HomeauthConfig | undefined): Promise<void> {
    const {options} = this
    const next = await loadTls(options, config)
    if (next.certificate.fingerprint !== this.tls.certificate.fingerprint) {
      listener.setTls(next)
      const {fingerprint, notAfter} = next.certificate
      const what = next.addedHosts
        ? `server certificate reissued from the same CA to add ${next.addedHosts.join(', ')} (devices need nothing new)`
        : 'now serving a new server certificate'
      options.onReload?.(
        `${what}, server certificate fingerprint ${fingerprint} (valid until ${notAfter.toISOString().slice(0, 10)})`,
      )
    }
    if (next.authority?.fingerprint !== this.tls.authority?.fingerprint) {
      this.apps = this.buildApps(next.authority)
      options.onReload?.(
        next.authority
          ? `now handing out a new CA to devices, CA fingerprint ${next.authority.fingerprint}`
          : 'now handing out no CA to devices',
      )
    }
    this.tls = next
  }
}

/** Starts the --auth-listen listener, if asked for, with the main app's verifier, throttle and report. */
async function startForwardAuthListener(
  options: ServeOptions,
  auth: SharedAuth,
): Promise<AuthListener | undefined> {
  if (options.authListen === undefined) return undefined
  const app = createAuthApp({
    ...auth,
    credentialsAtStartup: options.credentials !== undefined,
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
    maxConnections: options.connections?.maxConnections,
  })
}

interface Listeners {
  listener: Listener
  authListener: AuthListener | undefined
  controlListener: ControlListener
}

/**
 * How the HTTPS listener shares out its connections: per client as the throttle counts failures, a
 * locked-out client's connections the first to go, a signed-in client's kept (see ConnectionCrowd), a
 * trusted proxy's address and a signed-in client never capped per client.
 */
function connectionPolicy(options: ServeOptions, auth: SharedAuth): Partial<ConnectionPolicy> {
  const trusted = proxyTrust(options.trustProxy ?? [])
  const {throttle, signIns} = auth
  // A sign-in protects its client's connections as long as a failure counts against a guesser's.
  const signedInMs = options.throttle?.windowMs ?? settingDefaults['failure-window'] * 1000
  return {
    ...options.connections,
    clientOf: (address) => throttle.clientOf(address),
    lockedOut: (address) => throttle.isLockedOut(address),
    signedIn: (address) => signIns.signedInFrom(address, signedInMs),
    // A user's own script may open many connections: a client that signed in is no crowd.
    uncapped: (address) =>
      (trusted !== false && trusted(address, 0)) || signIns.signedInFrom(address, signedInMs),
  }
}

/** Starts the HTTPS listener, then the --auth-listen one, then the control socket; those started are closed again if one fails. */
async function listen(options: ServeOptions, site: Site): Promise<Listeners> {
  const listener = await startServer({
    handler: site.handler,
    plainHandler: site.plainHandler,
    tls: site.tls,
    host: options.host,
    port: options.port,
    timeouts: options.timeouts,
    connections: connectionPolicy(options, site.auth),
  })
  const authListener = await startForwardAuthListener(options, site.auth).catch(async (error: unknown) => {
    await listener.close()
    throw error
  })
  const controlListener = await startControlListener({
    socketPath: configPath(options.configDir, 'control'),
    handler: controlHandler(site.auth),
    timeouts: options.timeouts,
  }).catch(async (error: unknown) => {
    await Promise.all([listener.close(), authListener?.close()])
    throw error
  })
  return {listener, authListener, controlListener}
}

/** Records this server in state.json, for status, stop, logs and the commands that signal a reload. */
function recordState(
  options: ServeOptions,
  url: string,
  {listener, authListener, controlListener}: Listeners,
): Promise<void> {
  return writeState(options.configDir, {
    pid: process.pid,
    url,
    host: listener.host,
    startedAt: new Date().toISOString(),
    logFile: options.logFile ?? null,
    credentials: options.credentials ? 'startup' : 'stored',
    supervisor: detectSupervisor(process.env),
    ...(authListener ? {authListen: describeAuthAddress(authListener.address)} : {}),
    trustProxy: options.trustProxy ?? [],
    control: controlListener.socketPath,
  })
}

/**
 * Watches what the certificate should cover: a LAN address DHCP gives the machine while it serves,
 * and expiry. The first new-host reissue after one at start-up waits as after any other.
 */
function watchSiteCertificate(options: ServeOptions, site: Site, listener: Listener): () => void {
  return watchCertificate({
    servedHosts: () => site.tls.certificate.hosts,
    nameConstraints: () => site.tls.authority?.nameConstraints,
    reload: () => site.reloadTls(listener),
    onReloadFailed: (error) => options.onReloadFailed?.(error),
    reissues: site.tls.authority !== undefined,
    reissuedAt: site.tls.provenance === 'renewed' ? Date.now() : undefined,
    timing: options.certificateWatch,
  })
}

/** Loads or makes the certificates, builds the app, starts listening and records state.json: the whole of `homeauth serve`. */
export async function startHomeauth(options: ServeOptions): Promise<HomeauthServer> {
  checkOptions(options)
  await refuseSecondServer(options.configDir)
  const verifier = createVerifier(options, options.config)
  const devices = await createDeviceCheck(options, options.config)
  const sightings = await DeviceSightings.open(options.configDir, (error) => options.onError?.(error))
  const site = new Site(options, verifier, devices, sightings, await loadTls(options, options.config))
  const listeners = await listen(options, site)
  const {listener, authListener, controlListener} = listeners
  const urls = serverUrls(listener.host, listener.port)
  await recordState(options, urls[0]!, listeners)
  const stopWatching = watchSiteCertificate(options, site, listener)
  return {
    listener,
    authListener,
    controlListener,
    get tls() {
      return site.tls
    },
    urls,
    reload: () => site.reload(listener),
    async close() {
      stopWatching()
      await Promise.all([listener.close(), authListener?.close(), controlListener.close(), site.settled()])
      await sightings.close()
      await clearState(options.configDir, process.pid)
    },
  }
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
        server.controlListener.closeAllConnections()
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

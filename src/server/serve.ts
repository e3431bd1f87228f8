import {loadOrCreateServerTls, loadProvidedTls, type ServerTls} from '../certificates/store.js'
import {isValidHost, lanAddresses, machineNames} from '../certificates/hosts.js'
import type {Credentials} from '../credentials/credentials.js'
import {createPlainVerifier} from '../credentials/verifier.js'
import {usageError} from '../errors.js'
import type {AccessLogEntry} from './access-log.js'
import {createApp} from './app.js'
import {defaultRealm, realmProblem} from './basic-auth.js'
import {startServer, type RunningServer, type Timeouts} from './listen.js'

export interface ServeOptions {
  configDir: string
  credentials: Credentials
  secret: string
  realm?: string
  host?: string
  port: number
  /** The user's own certificate and key (--cert/--key) instead of the local CA's. */
  tlsFiles?: {cert: string; key: string}
  /** Host names and addresses added to a certificate homeauth makes (--san). */
  extraHosts?: string[]
  frameAncestors?: string[]
  timeouts?: Partial<Timeouts>
  onRequest?: (entry: AccessLogEntry) => void
  onError?: (error: Error) => void
}

export interface HomeauthServer {
  running: RunningServer
  tls: ServerTls
  /** Where to open the page: the bound address, or loopback, the machine's names and LAN addresses. */
  urls: string[]
}

const wildcardHosts = new Set(['::', '0.0.0.0'])

function urlFor(host: string, port: number): string {
  return `https://${host.includes(':') ? `[${host}]` : host}:${port}/`
}

/** The URLs to show for a server bound to `host`, most useful first. */
export function serverUrls(host: string, port: number): string[] {
  const hosts = wildcardHosts.has(host)
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
  const badHost = options.extraHosts?.find((host) => !isValidHost(host))
  if (badHost !== undefined) {
    throw usageError(`--san ${JSON.stringify(badHost)} is neither a host name nor an IP address.`, [
      'Pass names like pi.home.arpa or addresses like 192.168.1.20.',
    ])
  }
  const badSource = options.frameAncestors?.find((source) => !frameSource.test(source))
  if (badSource !== undefined) {
    throw usageError(`--frame-ancestors ${JSON.stringify(badSource)} is not an origin.`, [
      "Pass origins like https://dashboard.local:8123, or 'self'.",
    ])
  }
}

/** Loads or makes the certificates, builds the app and starts listening: the whole of `homeauth serve`. */
export async function startHomeauth(options: ServeOptions): Promise<HomeauthServer> {
  checkOptions(options)
  const tls = options.tlsFiles
    ? await loadProvidedTls(options.tlsFiles.cert, options.tlsFiles.key)
    : await loadOrCreateServerTls(options.configDir, {extraHosts: options.extraHosts})
  const app = createApp({
    secret: options.secret,
    verifier: createPlainVerifier(options.credentials),
    realm: options.realm,
    frameAncestors: options.frameAncestors,
    onRequest: options.onRequest,
    onError: options.onError,
  })
  const running = await startServer({
    handler: app,
    tls,
    host: options.host,
    port: options.port,
    timeouts: options.timeouts,
  })
  return {running, tls, urls: serverUrls(running.host, running.port)}
}

/**
 * Resolves with the signal's name once SIGINT or SIGTERM has shut the server down gracefully.
 * A second signal during the grace period cuts the remaining connections at once.
 */
export function stopOnSignals(running: RunningServer): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    let received: NodeJS.Signals | undefined
    const onSignal = (signal: NodeJS.Signals) => {
      if (received) return void running.server.closeAllConnections()
      received = signal
      void running.close().then(() => {
        process.off('SIGINT', onSignal)
        process.off('SIGTERM', onSignal)
        resolve(signal)
      })
    }
    process.on('SIGINT', onSignal)
    process.on('SIGTERM', onSignal)
  })
}

import type {ServedCertificate} from '../certificates/store.js'
import {homeauthCommand, shellQuoted} from '../invocation.js'
import type {AccessLogEntry} from '../web/access-log.js'
import {describeAuthAddress, type AuthAddress} from '../net/auth-listener.js'
import type {FailedLogin} from '../web/basic-auth.js'
import type {UntrustedProxy} from '../web/forward-auth.js'
import type {OnboardingUrls} from '../web/onboarding-urls.js'
import type {UnencryptedCredentials} from '../web/plain-http.js'
import type {ServerEvents} from '../web/events.js'
import {escapeControl} from './escape.js'
import {printWarning} from './messages.js'
import type {Output} from './output.js'
import {printOnboardingCode} from './qr.js'

export interface BannerInfo {
  urls: string[]
  tls: ServedCertificate
  /** Who may sign in; the first one is named in the curl example. */
  usernames: string[]
  credentialSource: string
  realm: string
  /** The onboarding URLs for the QR code shown at a terminal; undefined with --no-qr. */
  onboarding: OnboardingUrls | undefined
  /** The --auth-listen listener, when there is one. */
  authListener?: {address: AuthAddress}
}

const provenanceNote: Record<ServedCertificate['provenance'], string> = {
  created: 'made now',
  reused: 'reused',
  renewed: 'server certificate renewed now',
  provided: 'given with --cert/--key',
}

/** The start-up banner: where to open the page, what to trust, where the credentials came from. */
function printBanner(output: Output, info: BannerInfo): void {
  const {color} = output.out
  const [firstUrl = ''] = info.urls
  const lines = [
    color.bold.green('homeauth is serving over HTTPS with Basic auth') + ` (realm "${info.realm}")`,
  ]
  lines.push('Open:', ...info.urls.map((url) => `  ${color.cyan(url)}`))
  const {certificate, authority} = info.tls
  if (authority) {
    lines.push(`CA certificate: ${authority.file} (${provenanceNote[info.tls.provenance]})`)
    lines.push(`  CA fingerprint (SHA-256): ${color.bold(authority.fingerprint)}`)
    lines.push('  Trust this CA on your devices to open the page without warnings.')
  } else {
    lines.push(
      `Server certificate: ${provenanceNote.provided}, server certificate fingerprint (SHA-256) ${certificate.fingerprint}`,
    )
  }
  if (info.tls.addedHosts) lines.push(`Server certificate reissued to add ${info.tls.addedHosts.join(', ')}`)
  lines.push(
    `Server certificate valid until ${certificate.notAfter.toISOString().slice(0, 10)} (${certificate.daysLeft} days)`,
  )
  const names = info.usernames.map((name) => `"${escapeControl(name)}"`).join(', ')
  lines.push(
    `Credentials: ${info.usernames.length === 1 ? 'user' : 'users'} ${names}, from ${info.credentialSource}`,
  )
  if (info.authListener) {
    const where = describeAuthAddress(info.authListener.address)
    lines.push(`Forward auth for a proxy on this machine: ${color.cyan(where)} (plain HTTP, /auth only)`)
  }
  const caOption = authority ? `--cacert ${shellQuoted(authority.file)} ` : ''
  lines.push(
    `Fetch the secret: curl ${caOption}-u ${shellQuoted(info.usernames[0] ?? '')} ${shellQuoted(`${firstUrl}api/secret`)}`,
  )
  output.out.line(lines.join('\n'))
  if (info.onboarding) printServerCode(output, info.onboarding, authority !== undefined)
  output.out.line(color.dim('Press Ctrl+C to stop.'))
}

/** The onboarding QR code of a running server; with --cert/--key there is no local CA to hand out. */
function printServerCode(output: Output, onboarding: OnboardingUrls, hasAuthority: boolean): void {
  if (hasAuthority) return printOnboardingCode(output, onboarding)
  if (output.out.isTerminal) {
    output.out.line('No QR code: with --cert/--key there is no local CA for devices to install.')
  }
}

/** One access-log line: time, method, path, status, milliseconds, user name (and device) or "-", and "(plain HTTP)" when it was. */
function accessLine(output: Output, entry: AccessLogEntry): string {
  const {color} = output.out
  const status = entry.status >= 500 ? color.red : entry.status >= 400 ? color.yellow : color.green
  const device = entry.device === undefined ? '' : ` (device ${escapeControl(entry.device)})`
  const user = entry.user === undefined ? '-' : `${escapeControl(entry.user)}${device}`
  return `${new Date().toISOString()} ${entry.method} ${escapeControl(entry.path)} ${status(String(entry.status))} ${entry.ms.toFixed(1)}ms ${user}${entry.plainHttp ? ' (plain HTTP)' : ''}`
}

/** A busy server writes its access log in one write per this many lines at most. */
const maxBatchedLines = 256

/**
 * The log of a running server, on one output: its owner (serve) opens it, hands `events` to the
 * server and closes it when the server has stopped. Access lines wait to be written together at
 * the end of the event loop's turn (one write for every request answered in it, not one each),
 * before any other line so the log keeps its order, and when the process exits while the log is
 * open, so a crash keeps the requests before it.
 */
export class ServerLog {
  private pendingAccessLines: string[] | undefined
  private readonly flushOnExit = () => this.flush()

  constructor(private readonly output: Output) {
    process.on('exit', this.flushOnExit)
  }

  readonly events: ServerEvents = {
    onRequest: (entry) => this.queueAccessLine(accessLine(this.output, entry)),
    onError: (error) => this.write(printServerError, error),
    onReload: (message) => this.write(printReloaded, message),
    onReloadFailed: (error) => this.write(printReloadFailed, error),
    onFailedLogin: (login) => this.write(printFailedLogin, login),
    onUnencryptedCredentials: (request) => this.write(printUnencryptedCredentials, request),
    onUntrustedProxy: (proxy) => this.write(printUntrustedProxy, proxy),
  }

  /** Writes the access lines waiting, if any. */
  flush(): void {
    const lines = this.pendingAccessLines
    if (!lines) return
    this.pendingAccessLines = undefined
    this.output.out.line(lines.join('\n'))
  }

  banner(info: BannerInfo): void {
    this.write(printBanner, info)
  }

  stopped(signal: string): void {
    this.write(printStopped, signal)
  }

  /** Writes what is waiting and stops listening for the process's exit. */
  close(): void {
    this.flush()
    process.off('exit', this.flushOnExit)
  }

  private queueAccessLine(line: string): void {
    if (this.pendingAccessLines === undefined) {
      this.pendingAccessLines = [line]
      setImmediate(() => this.flush())
    } else if (this.pendingAccessLines.push(line) >= maxBatchedLines) this.flush()
  }

  /** A line other than an access line: the access lines before it first. */
  private write<T>(print: (output: Output, value: T) => void, value: T): void {
    this.flush()
    print(this.output, value)
  }
}

function printServerError(output: Output, error: Error): void {
  output.err.line(
    output.err.color.red(
      `Error while answering a request: ${process.env.DEBUG ? error.stack : error.message}`,
    ),
  )
}

/**
 * A failed login, on stderr so an attack shows in the log: address and user name (escaped), never the
 * password, and for an address of the server's LAN what its prefix's budget holds.
 */
function printFailedLogin(output: Output, login: FailedLogin): void {
  const user =
    login.user === undefined ? 'an unreadable Authorization header' : `user "${escapeControl(login.user)}"`
  const {prefix} = login
  let outcome =
    login.lockedForSeconds === undefined
      ? `${login.failures} failure(s) in the window`
      : `locked out for ${login.lockedForSeconds} s`
  if (prefix?.lockedForSeconds !== undefined)
    outcome += `; the whole LAN prefix ${prefix.cidr} locked out for ${prefix.lockedForSeconds} s`
  else if (prefix) outcome += ` (${prefix.failures} from the LAN prefix ${prefix.cidr})`
  output.err.line(
    output.err.color.yellow(
      `${new Date().toISOString()} failed login from ${escapeControl(login.address)} as ${user}: ${outcome}`,
    ),
  )
}

/** Credentials sent over plain HTTP, on stderr: where from (escaped) and what to do, never the credentials. */
function printUnencryptedCredentials(output: Output, request: UnencryptedCredentials): void {
  output.err.line(
    output.err.color.yellow(
      `${new Date().toISOString()} credentials sent unencrypted over plain HTTP from ${escapeControl(request.address)} (${request.method} ${escapeControl(request.path)}), refused unchecked: ${request.credentialsAtStartup ? "if it is this server's password, restart serve with a new one (it was given at start-up, which passwd cannot change)" : `change that password with ${homeauthCommand('passwd')}`}`,
    ),
  )
}

/** Once per run: a local address asked /auth as a proxy would, but --trust-proxy does not name it. */
function printUntrustedProxy(output: Output, proxy: UntrustedProxy): void {
  const address = proxy.address === undefined ? 'the Unix socket' : escapeControl(proxy.address)
  const flag = proxy.address === undefined ? '127.0.0.1' : escapeControl(proxy.address)
  printWarning(
    output,
    `/auth is asked with ${proxy.header} from ${address}, a reverse proxy homeauth does not trust: all its clients share one failed-login count. If it is yours, start serve with --trust-proxy ${flag}.`,
  )
}

function printReloaded(output: Output, message: string): void {
  output.out.line(`${new Date().toISOString()} reload: ${message}`)
}

function printReloadFailed(output: Output, error: Error): void {
  printWarning(
    output,
    `reload failed, still serving the previous credentials and certificate: ${error.message}`,
  )
}

function printStopped(output: Output, signal: string): void {
  output.out.line(`Received ${signal}: homeauth stopped.`)
}

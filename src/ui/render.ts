import {Chalk} from 'chalk'

import type {CertificateSummary} from '../certificates/inspect.js'
import type {ServedCertificate} from '../certificates/store.js'
import type {FailedLogin} from '../server/basic-auth.js'
import type {StatusReport, StopResult} from '../server/manage.js'
import type {InitResult} from '../setup/init.js'
import type {PasswdResult} from '../setup/passwd.js'
import type {AccessLogEntry} from '../server/access-log.js'

/** chalk does not check NO_COLOR by itself: no colour when it is set or stdout is not a terminal. */
function colorLevel(): 0 | 1 {
  return process.env.NO_COLOR !== undefined || !process.stdout.isTTY ? 0 : 1
}

const color = new Chalk({level: colorLevel()})

/** Where output goes: the terminal, or a detached server's log file (see `logTo`). */
let out = (text: string) => console.log(text)
let err = (text: string) => console.error(text)

/** Sends everything this module prints, data and diagnostics alike, to `write` (a detached server's log). */
export function logTo(write: (line: string) => void): void {
  out = write
  err = write
}

/**
 * Shows what a terminal or log viewer would act on or hide as escapes, so a client cannot forge, hide
 * or reorder log lines: controls (Cc) as `\x1b`; format characters (Cf: bidirectional overrides and
 * isolates, zero-width characters, the BOM) and line and paragraph separators (Zl, Zp) as `\u{202e}`.
 * Backslashes are doubled, so no input can pass for an escape.
 */
export function escapeControl(text: string): string {
  return text.replace(/[\p{Cc}\p{Cf}\p{Zl}\p{Zp}\\]/gu, (char) => {
    if (char === '\\') return '\\\\'
    const code = char.codePointAt(0)!.toString(16)
    return code.length <= 2 ? `\\x${code.padStart(2, '0')}` : `\\u{${code}}`
  })
}

export interface BannerInfo {
  urls: string[]
  tls: ServedCertificate
  username: string
  credentialSource: string
  realm: string
}

const provenanceNote: Record<ServedCertificate['provenance'], string> = {
  created: 'made now',
  reused: 'reused',
  renewed: 'server certificate renewed now',
  provided: 'given with --cert/--key',
}

/** The start-up banner: where to open the page, what to trust, where the credentials came from. */
export function banner(info: BannerInfo): void {
  const [firstUrl = ''] = info.urls
  const lines = [
    color.bold.green('homeauth is serving over HTTPS with Basic auth') + ` (realm "${info.realm}")`,
  ]
  lines.push('Open:', ...info.urls.map((url) => `  ${color.cyan(url)}`))
  const {certificate, authority} = info.tls
  if (authority) {
    lines.push(`CA certificate: ${authority.file} (${provenanceNote[info.tls.provenance]})`)
    lines.push(`  SHA-256 fingerprint: ${color.bold(authority.fingerprint)}`)
    lines.push('  Trust this CA on your devices to open the page without warnings.')
  } else {
    lines.push(`Certificate: ${provenanceNote.provided}, SHA-256 fingerprint ${certificate.fingerprint}`)
  }
  if (info.tls.addedHosts) lines.push(`Server certificate reissued to add ${info.tls.addedHosts.join(', ')}`)
  lines.push(
    `Server certificate valid until ${certificate.notAfter.toISOString().slice(0, 10)} (${certificate.daysLeft} days)`,
  )
  lines.push(`Credentials: user "${info.username}", from ${info.credentialSource}`)
  const caOption = authority ? `--cacert ${authority.file} ` : ''
  lines.push(`Fetch the secret: curl ${caOption}-u ${info.username} ${firstUrl}api/secret`)
  lines.push(color.dim('Press Ctrl+C to stop.'))
  out(lines.join('\n'))
}

/** One access-log line on stdout: time, method, path, status, milliseconds, user name or "-". */
export function accessLine(entry: AccessLogEntry): void {
  const status = entry.status >= 500 ? color.red : entry.status >= 400 ? color.yellow : color.green
  const user = entry.user === undefined ? '-' : escapeControl(entry.user)
  out(
    `${new Date().toISOString()} ${entry.method} ${escapeControl(entry.path)} ${status(String(entry.status))} ${entry.ms.toFixed(1)}ms ${user}`,
  )
}

/** A user-facing failure: one line for what is wrong, one per suggestion for what to do. */
export function failure(message: string, suggestions: string[]): void {
  err([color.red(`Error: ${message}`), ...suggestions.map((suggestion) => `  Try: ${suggestion}`)].join('\n'))
}

/** The secret alone on stdout, so `$(homeauth fetch-secret)` captures exactly it. */
export function secret(message: string): void {
  out(message)
}

export function warning(message: string): void {
  err(color.yellow(`Warning: ${message}`))
}

/** Secrets given as flags can be read by every local user in `ps`: say so once, with the alternatives. */
export function visibleSecretWarnings(flags: {password?: string; secret?: string}): void {
  if (flags.password !== undefined) {
    warning(
      '-p/--password is visible to other users in ps; prefer --password-stdin, HOMEAUTH_PASSWORD or homeauth init.',
    )
  }
  if (flags.secret !== undefined) {
    warning(
      '--secret is visible to other users in ps; prefer --secret-file, HOMEAUTH_SECRET or homeauth init.',
    )
  }
}

export function serverError(error: Error): void {
  err(color.red(`Error while answering a request: ${process.env.DEBUG ? error.stack : error.message}`))
}

/** A failed login, on stderr so an attack shows in the log: address and user name (escaped), never the password. */
export function failedLogin(failure: FailedLogin): void {
  const user =
    failure.user === undefined
      ? 'an unreadable Authorization header'
      : `user "${escapeControl(failure.user)}"`
  const outcome =
    failure.lockedForSeconds === undefined
      ? `${failure.failures} failure(s) in the window`
      : `locked out for ${failure.lockedForSeconds} s`
  err(
    color.yellow(
      `${new Date().toISOString()} failed login from ${escapeControl(failure.address)} as ${user}: ${outcome}`,
    ),
  )
}

export function reloaded(message: string): void {
  out(`${new Date().toISOString()} reload: ${message}`)
}

export function reloadFailed(error: Error): void {
  warning(`reload failed, still serving the previous credentials and certificate: ${error.message}`)
}

export function detached(server: {pid: number; url: string; logFile: string}): void {
  out(
    [
      color.bold.green(`homeauth is serving in the background (PID ${server.pid})`),
      `  ${color.cyan(server.url)}`,
      `  log: ${server.logFile}`,
    ].join('\n'),
  )
  err('Check it with: homeauth status; stop it with: homeauth stop')
}

export function stopped(signal: string): void {
  out(`Received ${signal}: homeauth stopped.`)
}

function reloadNote(pid: number | undefined): string {
  return pid === undefined
    ? 'No server is running; the next homeauth serve uses it.'
    : `The running server (PID ${pid}) was told to reload.`
}

/**
 * What to say about a running server that does not read the stored credentials again on SIGHUP (one
 * started with its own), or may not; undefined when none runs or it checks the stored hash.
 */
function keptCredentialsNote(server: PasswdResult['signalledServer']): string | undefined {
  if (server === undefined || server.credentials === 'stored') return undefined
  return server.credentials === 'startup'
    ? `The running server (PID ${server.pid}) was started with credentials given on its command line, in its environment or at a prompt, and keeps them; restart it to use the stored password.`
    : `The running server (PID ${server.pid}) was told to reload; if it was started with credentials of its own, it keeps them until restarted.`
}

/** A reload brings the stored credentials and certificate, not a new secret message or port. */
function initReloadNote(server: InitResult['signalledServer']): string {
  if (server?.credentials !== 'stored') return keptCredentialsNote(server) ?? reloadNote(undefined)
  return `The running server (PID ${server.pid}) was told to reload the stored credentials and the certificate; restart it to serve a changed secret message or port.`
}

/** After init: where everything is, what to trust, and what to type next. */
export function initSummary(result: InitResult): void {
  out(
    [
      color.bold.green(`homeauth is set up in ${result.configDir}`),
      `  user:           ${result.username} (password stored as a scrypt hash only)`,
      `  port:           ${result.port}`,
      `  CA certificate: ${result.caFile} (${result.caKept ? 'kept: devices that trust it need nothing new' : 'new: trust it on your devices'})`,
      `  fingerprint:    ${color.bold(result.caFingerprint)}`,
      `  certificate for: ${result.hosts.join(', ')}`,
    ].join('\n'),
  )
  err(
    [
      initReloadNote(result.signalledServer),
      'Next:',
      `  homeauth serve`,
      `  curl --cacert ${result.caFile} -u ${result.username} https://localhost:${result.port}/api/secret`,
    ].join('\n'),
  )
}

export function passwordChanged(result: PasswdResult): void {
  out(`Password for ${result.username} changed (stored as a scrypt hash only).`)
  err(keptCredentialsNote(result.signalledServer) ?? reloadNote(result.signalledServer?.pid))
}

function certificateLines(title: string, summary: CertificateSummary & {file: string}): string[] {
  const expiry =
    summary.daysLeft < 30 ? color.yellow(`${summary.daysLeft} days left`) : `${summary.daysLeft} days left`
  return [
    color.bold(title),
    `  file:        ${summary.file}`,
    `  subject:     ${summary.subject}`,
    ...(summary.hosts.length ? [`  hosts:       ${summary.hosts.join(', ')}`] : []),
    `  fingerprint: ${summary.fingerprint}`,
    `  not after:   ${summary.notAfter.toISOString()} (${expiry})`,
  ]
}

export function certificates(
  authority: CertificateSummary & {file: string},
  server: (CertificateSummary & {file: string}) | undefined,
): void {
  const lines = certificateLines('CA certificate', authority)
  lines.push(
    ...(server
      ? certificateLines('Server certificate', server)
      : ['Server certificate: none yet (homeauth serve or cert renew makes one)']),
  )
  out(lines.join('\n'))
}

export function renewed(summary: CertificateSummary, reloadedPid: number | undefined): void {
  out(
    [
      `New server certificate, valid until ${summary.notAfter.toISOString().slice(0, 10)} (${summary.daysLeft} days)`,
      `  hosts:       ${summary.hosts.join(', ')}`,
      `  fingerprint: ${summary.fingerprint}`,
    ].join('\n'),
  )
  err(`The CA is unchanged. ${reloadNote(reloadedPid)}`)
}

function duration(seconds: number): string {
  const parts: [number, string][] = [
    [Math.floor(seconds / 86400), 'd'],
    [Math.floor((seconds % 86400) / 3600), 'h'],
    [Math.floor((seconds % 3600) / 60), 'm'],
    [seconds % 60, 's'],
  ]
  const shown = parts.filter(([value]) => value > 0).slice(0, 2)
  return shown.length ? shown.map(([value, unit]) => `${value}${unit}`).join(' ') : '0s'
}

export function status(server: StatusReport): void {
  if (!server.running) return out('homeauth is not running.')
  const lines = [
    server.healthy
      ? color.bold.green(`homeauth is running (PID ${server.pid})`)
      : color.bold.red(`homeauth (PID ${server.pid}) is running but does not answer /healthz`),
    `  url:         ${server.url}`,
    `  since:       ${server.startedAt} (up ${duration(server.uptimeSeconds ?? 0)})`,
    `  log:         ${server.logFile ?? 'none (running in the foreground)'}`,
  ]
  if (server.certificate) {
    const days = `${server.certificate.daysLeft} days left`
    lines.push(
      `  certificate: valid until ${server.certificate.notAfter} (${server.certificate.daysLeft < 30 ? color.yellow(days) : days})`,
    )
    lines.push(`  fingerprint: ${server.certificate.fingerprint}`)
  }
  out(lines.join('\n'))
}

export function stopResult(result: StopResult): void {
  if (result.pid === undefined) return out('homeauth is not running; nothing to stop.')
  if (result.killed) warning(`PID ${result.pid} did not stop in time and was killed (SIGKILL).`)
  out(`homeauth (PID ${result.pid}) stopped.`)
}

export function noLog(file: string): void {
  err(`No log yet: ${file} is written by homeauth serve --detach.`)
}

export function logLines(lines: string[]): void {
  if (lines.length) out(lines.join('\n'))
}

export function logText(text: string): void {
  process.stdout.write(text)
}

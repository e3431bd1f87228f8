import {journalCommand, systemctlCommand} from '../daemon/supervisor.js'
import {homeauthCommand} from '../invocation.js'
import type {DetachedServer} from '../daemon/detach.js'
import type {ServerRecord} from '../daemon/state.js'
import type {StatusReport, StopResult} from '../daemon/manage.js'
import type {ClientsReport, LockedClient, SignInEntry, UnlockReport} from '../web/control.js'
import type {OnboardingUrls} from '../web/onboarding-urls.js'
import {escapeControl} from './escape.js'
import {constraintNote, printWarning} from './messages.js'
import type {Output} from './output.js'

/** What a command that changed the config says about the running server it told to reload, if any. */
export function reloadNote(pid: number | undefined): string {
  return pid === undefined
    ? `No server is running; the next ${homeauthCommand('serve')} uses it.`
    : `The running server (PID ${pid}) was told to reload.`
}

/** How to restart a running server, the way it was started: by systemd, by serve --detach, or in the foreground. */
export function restartCommand(server: Pick<ServerRecord, 'supervisor' | 'logFile'>): string {
  if (server.supervisor) return systemctlCommand(server.supervisor, 'restart')
  if (server.logFile !== null) return `${homeauthCommand('stop')}, then ${homeauthCommand('serve --detach')}`
  return `Ctrl+C where it runs, then ${homeauthCommand('serve')}`
}

/** After serve --detach: where it runs and logs, and (at a terminal, unless `onboarding` is undefined) the QR code. */
export async function printDetached(
  output: Output,
  server: DetachedServer,
  onboarding: OnboardingUrls | undefined,
): Promise<void> {
  const {color} = output.out
  output.out.line(
    [
      color.bold.green(`homeauth is serving in the background (PID ${server.pid})`),
      `  ${color.cyan(server.url)}`,
      `  log: ${server.logFile}`,
    ].join('\n'),
  )
  if (onboarding && output.out.isTerminal) (await import('./qr.js')).printOnboardingCode(output, onboarding)
  output.err.line(`Check it with: ${homeauthCommand('status')}; stop it with: ${homeauthCommand('stop')}`)
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

export function printStatus(output: Output, server: StatusReport): void {
  const {color} = output.out
  if (!server.running) return output.out.line('homeauth is not running.')
  const lines = [
    server.healthy
      ? color.bold.green(`homeauth is running (PID ${server.pid})`)
      : color.bold.red(`homeauth (PID ${server.pid}) is running but does not answer /healthz`),
    `  url:         ${server.url}`,
    `  since:       ${server.startedAt} (up ${duration(server.uptimeSeconds ?? 0)})`,
    `  log:         ${server.supervisor ? `the journal: ${journalCommand(server.supervisor)}` : (server.logFile ?? 'none (running in the foreground)')}`,
  ]
  if (server.supervisor) {
    lines.push(`  runs under:  systemd (${systemctlCommand(server.supervisor, 'status')})`)
  }
  if (server.authListen) lines.push(`  auth:        ${server.authListen} (for a reverse proxy)`)
  if (server.trustProxy) {
    lines.push(`  trusts X-Forwarded-For from: ${server.trustProxy.join(', ') || 'no proxy'}`)
  }
  if (server.certificate) {
    const days = `${server.certificate.daysLeft} days left`
    lines.push(
      `  certificate: valid until ${server.certificate.notAfter} (${server.certificate.daysLeft < 30 ? color.yellow(days) : days})`,
    )
    lines.push(`  server certificate fingerprint: ${server.certificate.serverFingerprint}`)
  }
  if (server.caFingerprint) lines.push(`  CA fingerprint: ${server.caFingerprint}`)
  if (server.caConstrained !== null) lines.push(`  CA vouches for: ${constraintNote(server.caConstrained)}`)
  output.out.line(lines.join('\n'))
}

const clientKinds: Record<LockedClient['kind'], string> = {
  address: '',
  network: ' (its /64)',
  'lan-prefix': ' (the whole LAN prefix)',
}

/** Seconds from `now` to the ISO time `until`, never below 0. */
function secondsUntil(until: string, now: Date): number {
  return Math.max(0, Math.ceil((Date.parse(until) - now.getTime()) / 1000))
}

/** Who the running server has locked out, and who signed in last (`status --clients`). */
export function printClients(output: Output, report: ClientsReport, now: Date): void {
  const {color} = output.out
  const lines: string[] = []
  if (report.lockedOut.length === 0) lines.push('Nobody is locked out.')
  else {
    lines.push(color.bold(`Locked out for failed logins (${report.lockedOut.length}):`))
    for (const locked of report.lockedOut) {
      const lockouts = locked.lockouts > 1 ? `, lockout ${locked.lockouts} in a row` : ''
      lines.push(
        `  ${color.yellow(locked.client)}${clientKinds[locked.kind]}: since ${locked.since}, until ${locked.until} (${duration(secondsUntil(locked.until, now))} left), after ${locked.failures} failures${lockouts}`,
      )
    }
    lines.push(`Let one in at once with: ${homeauthCommand('unlock ADDRESS')}`)
  }
  lines.push('')
  if (report.signIns.length === 0) lines.push('Nobody has signed in since the server started.')
  else {
    lines.push(color.bold('Last sign-ins:'))
    const who = (signIn: SignInEntry) =>
      escapeControl(signIn.device === undefined ? signIn.user : `${signIn.user} (device ${signIn.device})`)
    const width = Math.max(...report.signIns.map((signIn) => who(signIn).length))
    for (const signIn of report.signIns)
      lines.push(`  ${who(signIn).padEnd(width)}  ${signIn.at}  from ${signIn.address}`)
  }
  output.out.line(lines.join('\n'))
}

/** What `unlock` did: lifted a lockout, or found none; and a LAN prefix that still refuses the address. */
export function printUnlocked(output: Output, report: UnlockReport): void {
  output.out.line(
    report.unlocked
      ? `Unlocked ${report.client}: it may sign in again at once.`
      : `Nothing was locked out for ${report.client}.`,
  )
  if (report.lockedPrefix) {
    printWarning(
      output,
      `Its LAN prefix ${report.lockedPrefix} is locked out as a whole; lift that with: ${homeauthCommand(`unlock ${report.lockedPrefix}`)}`,
    )
  }
}

export function printStopResult(output: Output, result: StopResult): void {
  if (result.pid === undefined) return output.out.line('homeauth is not running; nothing to stop.')
  if (result.killed) printWarning(output, `PID ${result.pid} did not stop in time and was killed (SIGKILL).`)
  output.out.line(`homeauth (PID ${result.pid}) stopped.`)
}

export function printNoLog(output: Output, file: string): void {
  output.err.line(`No log yet: ${file} is written by ${homeauthCommand('serve --detach')}.`)
}

/** A server under systemd logs to the journal: the command that shows it, with -n and -f as given. */
export function printJournalHint(
  output: Output,
  journal: string,
  flags: {lines: number; follow: boolean},
): void {
  output.err.line(
    `homeauth runs under systemd and logs to the journal. Run: ${journal} -n ${flags.lines}${flags.follow ? ' -f' : ''}`,
  )
}

export function printLogLines(output: Output, lines: string[]): void {
  if (lines.length) output.out.line(lines.join('\n'))
}

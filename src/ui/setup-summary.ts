import {homeauthCommand, shellQuoted} from '../invocation.js'
import type {OnboardingUrls} from '../web/onboarding-urls.js'
import type {InitResult} from '../setup/init.js'
import type {UserChangeResult} from '../setup/users.js'
import {reloadNote, restartCommand} from './daemon.js'
import {constraintNote} from './messages.js'
import type {Output} from './output.js'

/**
 * What to say about a running server that does not read the stored credentials again on SIGHUP (one
 * started with its own), or may not; undefined when none runs or it checks the stored hash.
 */
export function keptCredentialsNote(server: UserChangeResult['signalledServer']): string | undefined {
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

function authorityNote(result: InitResult): string {
  if (result.caKept) return 'kept: devices that trust it need nothing new'
  if (result.caReplaced) return 'new, replacing the old one: every device must trust the new CA'
  return 'new: trust it on your devices'
}

/**
 * After init: where everything is, what to trust, the QR code of the onboarding URL (at a terminal,
 * unless `onboarding` is undefined), and what to type next.
 */
export async function printInitSummary(
  output: Output,
  result: InitResult,
  onboarding: OnboardingUrls | undefined,
): Promise<void> {
  const {color} = output.out
  output.out.line(
    [
      color.bold.green(`homeauth is set up in ${result.configDir}`),
      `  user:           ${result.username} (password stored as a scrypt hash only)`,
      `  port:           ${result.port}`,
      `  CA certificate: ${result.caFile} (${authorityNote(result)})`,
      `  CA fingerprint: ${color.bold(result.caFingerprint)}`,
      `  CA vouches for: ${constraintNote(result.caConstrained)}`,
      `  certificate for: ${result.hosts.join(', ')}`,
    ].join('\n'),
  )
  if (onboarding && output.out.isTerminal) (await import('./qr.js')).printOnboardingCode(output, onboarding)
  const server = result.signalledServer
  const curl = `  curl --cacert ${shellQuoted(result.caFile)} -u ${shellQuoted(result.username)} https://localhost:${result.port}/api/secret`
  // A second serve on this config directory would only be refused: the one running is restarted instead.
  const next = server
    ? [`To restart it: ${restartCommand(server)}`, 'Try it:', curl]
    : ['Next:', `  ${homeauthCommand('serve')}`, curl]
  output.err.line([initReloadNote(server), ...next].join('\n'))
}

export function printPasswordChanged(output: Output, result: UserChangeResult): void {
  output.out.line(`Password for ${result.name} changed (stored as a scrypt hash only).`)
  output.err.line(keptCredentialsNote(result.signalledServer) ?? reloadNote(result.signalledServer?.pid))
}

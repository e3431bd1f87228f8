import type {NameConstraints} from '../certificates/constraints.js'
import {caDownloads, platformGuides} from '../certificates/platforms.js'
import {homeauthCommand} from '../invocation.js'
import type {ServerOnboardingUrls} from '../web/onboarding-urls.js'
import {constraintNote} from './messages.js'
import type {Output} from './output.js'
import {printOnboardingCode} from './qr.js'

export interface TrustInfo {
  onboarding: ServerOnboardingUrls
  authority: {file: string; fingerprint: string; nameConstraints: NameConstraints | undefined}
  /** Whether to show the QR code (at a terminal): false with --no-qr. */
  qr: boolean
}

/**
 * What `homeauth trust` prints: the QR code, every onboarding URL, the CA fingerprint to compare,
 * and per platform the file to download and the steps that trust the CA.
 */
export function printTrust(output: Output, info: TrustInfo): void {
  const {color} = output.out
  const {onboarding, authority} = info
  if (info.qr) printOnboardingCode(output, onboarding)
  const base = new URL(onboarding.urls[0] ?? onboarding.localUrl)
  const lines = [
    'Onboarding page (plain HTTP: it hands out the CA certificate, nothing else):',
    ...onboarding.urls.map((url) => `  ${color.cyan(url)}`),
    `  on this machine: ${color.cyan(onboarding.localUrl)}`,
    `CA fingerprint (SHA-256): ${color.bold(authority.fingerprint)}`,
    '  Before you trust the CA on a device, compare this with the one the onboarding page shows.',
    `CA certificate: ${authority.file}`,
    `CA vouches for: ${constraintNote(authority.nameConstraints !== undefined)}`,
  ]
  for (const guide of Object.values(platformGuides)) {
    lines.push(
      '',
      `${color.bold(guide.name)}: ${color.cyan(new URL(caDownloads[guide.format].path, base).href)}`,
      ...guide.steps.map((step, index) => `  ${index + 1}. ${step}`),
    )
  }
  output.out.line(lines.join('\n'))
  if (!onboarding.serverRunning) {
    output.err.line(
      `No server is running on this config directory: the onboarding page answers once ${homeauthCommand('serve')} runs.`,
    )
  }
}

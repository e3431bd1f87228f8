import {homeauthCommand} from '../invocation.js'
import type {DeviceAdded, DeviceSummary} from '../setup/devices.js'
import type {UserChangeResult} from '../setup/users.js'
import {escapeControl} from './escape.js'
import type {Output} from './output.js'
import {serverNote} from './users.js'

/**
 * The password alone on stdout (what a script keeps), at a terminal also as a QR code of its text
 * for a phone to scan; what it is and how to use it on stderr.
 */
export async function printDeviceAdded(output: Output, result: DeviceAdded): Promise<void> {
  const user = escapeControl(result.user)
  output.err.line(
    `Device ${result.name} added for ${user}. Its password, shown only this once (homeauth keeps only a keyed hash):`,
  )
  output.out.line(result.password)
  if (output.out.isTerminal) {
    const {renderQrCode} = await import('./qr.js')
    output.out.line(renderQrCode(result.password, output.out.color).join('\n'))
    output.out.line('Scan it with the phone to copy the password into its clipboard or password manager.')
  }
  output.err.line(
    `On the device, sign in as ${user} with this password. Revoke it alone with: ${homeauthCommand(`device revoke ${result.name}`)}`,
  )
  output.err.line(serverNote(result))
}

export function printDeviceRevoked(output: Output, result: UserChangeResult): void {
  output.out.line(`Device ${result.name} revoked; its password no longer signs in.`)
  output.err.line(serverNote(result))
}

/** One line per device: name, user, when it was added, and when and from where it last signed in. */
export function printDeviceList(output: Output, devices: DeviceSummary[]): void {
  if (devices.length === 0) {
    output.err.line(`No devices yet; add one with: ${homeauthCommand('device add NAME')}`)
    return
  }
  const rows = [
    ['DEVICE', 'USER', 'ADDED', 'LAST SIGN-IN'],
    ...devices.map((device) => [
      device.name,
      escapeControl(device.user),
      device.createdAt,
      device.lastSeen ? `${device.lastSeen.at} from ${device.lastSeen.address}` : 'never',
    ]),
  ]
  const widths = rows[0]!.map((_, column) => Math.max(...rows.map((row) => row[column]!.length)))
  output.out.line(
    rows
      .map((row) =>
        row
          .map((cell, column) => cell.padEnd(widths[column]!))
          .join('  ')
          .trimEnd(),
      )
      .join('\n'),
  )
}

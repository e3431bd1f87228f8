import {
  configFile,
  deviceNamePattern,
  requireConfig,
  type HomeauthConfig,
  type StoredDevice,
} from '../config/config.js'
import {deviceKeyFile, readDeviceKey, readDevicesSeen, requireDeviceKey} from '../config/devices.js'
import {withConfigLock} from '../config/files.js'
import {devicePasswordHash, newDeviceKey, newDevicePassword} from '../credentials/devices.js'
import {signalReload} from '../daemon/state.js'
import {usageError} from '../errors.js'
import {homeauthCommand, shellQuoted} from '../invocation.js'
import {findUser, unknownUserError, userNames, type UserChangeResult} from './users.js'

/** A device just added: its password, shown once and stored nowhere. */
export interface DeviceAdded extends UserChangeResult {
  user: string
  password: string
  createdAt: string
}

/** A device as `device list` shows it: never the hash. */
export interface DeviceSummary {
  name: string
  user: string
  createdAt: string
  /** When and from which address it last signed in, as the running server last wrote it; null before. */
  lastSeen: {at: string; address: string} | null
}

/** A device name as typed, NFC-normalised and checked: letters, digits, ".", "_", "-", at most 64. */
export function checkDeviceName(name: string): string {
  const normalized = name.normalize('NFC')
  if (!deviceNamePattern.test(normalized)) {
    throw usageError(
      `${JSON.stringify(name)} is not a device name: use letters, digits, ".", "_" and "-" (at most 64, starting with a letter or digit).`,
      ['For example: bev-phone'],
    )
  }
  return normalized
}

function devicesOf(config: HomeauthConfig): StoredDevice[] {
  return config.devices ?? []
}

function unknownDeviceError(config: HomeauthConfig, name: string) {
  const names = devicesOf(config).map((device) => device.name)
  return usageError(
    `There is no device named ${JSON.stringify(name)} (${names.length > 0 ? `devices: ${names.join(', ')}` : 'no devices yet'}).`,
    [`List them with: ${homeauthCommand('device list')}`],
  )
}

/** Refuses `name` when a device has it already: checked before anything is written, and again under the lock. */
export function checkNewDeviceName(config: HomeauthConfig, name: string): void {
  if (devicesOf(config).some((device) => device.name === name)) {
    throw usageError(`There is already a device named ${JSON.stringify(name)}.`, [
      `Pick another name, or revoke it first: ${homeauthCommand(`device revoke ${shellQuoted(name)}`)}`,
    ])
  }
}

/** The user a new device signs in as: the one named, else the only user; with several, naming one is required. */
export function deviceUser(config: HomeauthConfig, username: string | undefined): string {
  if (username !== undefined) {
    const user = findUser(config, username)
    if (!user) throw unknownUserError(config, username.normalize('NFC'))
    return user.name
  }
  if (config.users.length === 1) return config.users[0]!.name
  throw usageError(`Say which user the device signs in as (users: ${userNames(config)}).`, [
    `Pass --username: ${homeauthCommand('device add NAME --username USER')}`,
  ])
}

/**
 * Adds a device with a new random password for its user, under the config lock. The first device
 * also makes the device key (0600), switched in with the config.json that first needs it.
 */
export async function addDevice(
  configDir: string,
  request: {name: string; username?: string},
  now = new Date(),
): Promise<DeviceAdded> {
  const name = checkDeviceName(request.name)
  const password = newDevicePassword()
  const createdAt = now.toISOString()
  const user = await withConfigLock(configDir, async ({updateFileSet}) => {
    const config = await requireConfig(configDir)
    checkNewDeviceName(config, name)
    const user = deviceUser(config, request.username)
    const devices = devicesOf(config)
    const existingKey =
      devices.length > 0 ? await requireDeviceKey(configDir) : await readDeviceKey(configDir)
    const key = existingKey ?? newDeviceKey()
    const device = {name, user, createdAt, passwordHash: devicePasswordHash(key, password)}
    await updateFileSet([
      configFile({...config, devices: [...devices, device]}),
      ...(existingKey === undefined ? [deviceKeyFile(key)] : []),
    ])
    return user
  })
  return {name, user, password, createdAt, signalledServer: await signalReload(configDir)}
}

/** Revokes a device: its password no longer signs in, on a running server at once (it is told to reload). */
export async function revokeDevice(configDir: string, givenName: string): Promise<UserChangeResult> {
  const name = givenName.normalize('NFC')
  await withConfigLock(configDir, async ({updateFileSet}) => {
    const config = await requireConfig(configDir)
    const devices = devicesOf(config)
    if (!devices.some((device) => device.name === name)) throw unknownDeviceError(config, name)
    await updateFileSet([configFile({...config, devices: devices.filter((device) => device.name !== name)})])
  })
  return {name, signalledServer: await signalReload(configDir)}
}

/** The devices in the order they were added, each with its last sign-in (from devices-seen.json), never a hash. */
export async function listDevices(configDir: string): Promise<DeviceSummary[]> {
  const config = await requireConfig(configDir)
  const seen = await readDevicesSeen(configDir)
  return devicesOf(config).map(({name, user, createdAt}) => {
    const sighting = Object.hasOwn(seen, name) ? seen[name] : undefined
    const lastSeen =
      sighting && sighting.createdAt === createdAt ? {at: sighting.at, address: sighting.address} : null
    return {name, user, createdAt, lastSeen}
  })
}

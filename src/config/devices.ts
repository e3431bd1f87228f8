import {errorCode, setupError} from '../errors.js'
import {homeauthCommand} from '../invocation.js'
import {configFiles, configPath} from '../paths.js'
import {privateFileMode, readSecretFile, writeFileAtomic, type SetFile} from './files.js'

/** The device key as a file of the config directory's set, written with the config.json that first uses it. */
export function deviceKeyFile(key: string): SetFile {
  return {name: configFiles.deviceKey, data: `${key}\n`, mode: privateFileMode}
}

/** The key of the device password hashes (0600, refused when others may read it); undefined before the first device. */
export async function readDeviceKey(configDir: string): Promise<string | undefined> {
  const file = configPath(configDir, 'deviceKey')
  let text: string
  try {
    text = await readSecretFile(file)
  } catch (error) {
    if (errorCode(error) === 'ENOENT') return undefined
    throw error
  }
  const key = text.trim()
  if (Buffer.from(key, 'base64').length !== 32) {
    throw setupError(`${file} does not hold a device key written by homeauth.`, [
      `Revoke every device (${homeauthCommand('device revoke NAME')}), remove the file, and add the devices again.`,
    ])
  }
  return key
}

/** The device key, which must exist once config.json lists a device. */
export async function requireDeviceKey(configDir: string): Promise<string> {
  const key = await readDeviceKey(configDir)
  if (key === undefined) {
    throw setupError(
      `config.json lists devices, but their key ${configPath(configDir, 'deviceKey')} is missing.`,
      [`Revoke every device (${homeauthCommand('device revoke NAME')}), then add them again.`],
    )
  }
  return key
}

/** When and from where a device last signed in, as the server recorded it. */
export interface DeviceSighting {
  /** The device's createdAt: a device revoked and added again under its name starts unseen. */
  createdAt: string
  /** ISO 8601. */
  at: string
  address: string
}

/** The devices' last sign-ins by device name. */
export type DevicesSeen = Record<string, DeviceSighting>

function isSighting(value: unknown): value is DeviceSighting {
  if (typeof value !== 'object' || value === null) return false
  const {createdAt, at, address} = value as Record<string, unknown>
  return typeof createdAt === 'string' && typeof at === 'string' && typeof address === 'string'
}

/**
 * Reads devices-seen.json; empty when there is none. It only says when devices were last seen,
 * so a damaged one is read as empty rather than stopping a server or `device list`.
 */
export async function readDevicesSeen(configDir: string): Promise<DevicesSeen> {
  let text: string
  try {
    text = await readSecretFile(configPath(configDir, 'devicesSeen'))
  } catch (error) {
    if (errorCode(error) === 'ENOENT') return {}
    throw error
  }
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch {
    return {}
  }
  if (typeof value !== 'object' || value === null) return {}
  return Object.fromEntries(
    Object.entries(value).filter(([, sighting]) => isSighting(sighting)),
  ) as DevicesSeen
}

/** Replaces devices-seen.json (0600) atomically. Not part of the config set: only the running server writes it. */
export async function writeDevicesSeen(configDir: string, seen: DevicesSeen): Promise<void> {
  await writeFileAtomic(
    configPath(configDir, 'devicesSeen'),
    `${JSON.stringify(seen, null, 2)}\n`,
    privateFileMode,
  )
}

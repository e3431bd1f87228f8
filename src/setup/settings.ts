import {readNameConstraints} from '../certificates/constraints.js'
import {refuseUnpermittedHosts} from '../certificates/hosts.js'
import {loadProvidedTls, readAuthority} from '../certificates/store.js'
import {configFile, initialisedConfig, readConfig, type HomeauthConfig} from '../config/config.js'
import {withConfigLock} from '../config/files.js'
import {resolveSecret} from '../config/secret.js'
import {
  isStoredSettingName,
  settingDefaults,
  settingPairs,
  storedSettingNames,
  withSetting,
  type StoredSettingName,
  type StoredSettings,
} from '../config/stored-settings.js'
import {usageError} from '../errors.js'
import {homeauthCommand} from '../invocation.js'
import {configPath} from '../paths.js'
import {findRunningServer, type ServerRecord} from '../daemon/state.js'

type SettingValue = StoredSettings[StoredSettingName]

/** The serve settings of a config directory, as `homeauth settings` shows them. */
export interface SettingsReport {
  configFile: string
  /** config.json's serve section: the settings chosen. */
  stored: StoredSettings
  /** What serve runs with when no flag says otherwise: the stored setting, else its default, else null (off). */
  effective: Record<StoredSettingName, SettingValue | null>
  /** A server running on the directory: it keeps the settings it started with until it is restarted. */
  running: Pick<ServerRecord, 'pid' | 'supervisor' | 'logFile'> | undefined
}

async function report(configDir: string, config: HomeauthConfig): Promise<SettingsReport> {
  const defaults: StoredSettings = settingDefaults
  const effective = Object.fromEntries(
    storedSettingNames.map((name) => [name, config.serve[name] ?? defaults[name] ?? null]),
  ) as SettingsReport['effective']
  const running = await findRunningServer(configDir)
  return {
    configFile: configPath(configDir, 'config'),
    stored: config.serve,
    effective,
    running: running && {pid: running.pid, supervisor: running.supervisor, logFile: running.logFile},
  }
}

/** The stored serve settings and what serve runs with; exit code 8 before `init`. */
export async function showSettings(configDir: string): Promise<SettingsReport> {
  const config = initialisedConfig(await readConfig(configDir), configDir)
  return report(configDir, config)
}

/** The names that change together with `names` (--cert and --key). */
function withPairs(names: StoredSettingName[]): StoredSettingName[] {
  return [...new Set(names.flatMap((name) => [name, ...(settingPairs[name] ? [settingPairs[name]] : [])]))]
}

/** Writes the serve section with `change` applied, under the lock; the settings it replaces are not checked on the way in. */
async function changeServeSection(
  configDir: string,
  replaced: StoredSettingName[],
  change: (serve: StoredSettings) => StoredSettings,
): Promise<SettingsReport> {
  const config = await withConfigLock(configDir, async ({updateFileSet}) => {
    // Read inside the lock: another writer's change meanwhile is kept, never overwritten.
    const current = initialisedConfig(await readConfig(configDir, new Set(replaced)), configDir)
    const changed = {...current, serve: change(current.serve)}
    await updateFileSet([configFile(changed)])
    return changed
  })
  return report(configDir, config)
}

/**
 * The checks serve makes of the files and names a setting gives when it starts, made now so a bad
 * one is refused before it is stored: the certificate and key must load and match, the secret file
 * be readable, not too open and not empty, and the stored CA permit every --san name.
 */
async function checkSettings(configDir: string, settings: StoredSettings): Promise<void> {
  if (settings.cert !== undefined && settings.key !== undefined)
    await loadProvidedTls(settings.cert, settings.key)
  const authority = settings.san && (await readAuthority(configDir))
  if (settings.san && authority) {
    refuseUnpermittedHosts(settings.san, readNameConstraints(authority.cert))
  }
  if (settings['secret-file'] !== undefined) {
    await resolveSecret({secretFile: settings['secret-file'], env: {}})
  }
}

/** Stores settings given as serve's flags (already checked and in stored form, see `givenSettings`); a list replaces the stored list. */
export async function setSettings(configDir: string, settings: StoredSettings): Promise<SettingsReport> {
  const names = storedSettingNames.filter((name) => settings[name] !== undefined)
  if (names.length === 0) {
    throw usageError('Name at least one setting to store.', [
      `For example: ${homeauthCommand('settings set --auth-listen 127.0.0.1:9091 --trust-proxy 127.0.0.1')}`,
    ])
  }
  await checkSettings(configDir, settings)
  return changeServeSection(configDir, names, (serve) =>
    names.reduce((changed, name) => withSetting(changed, name, settings[name]), serve),
  )
}

/** Removes settings from the serve section, so they take their defaults again; `undefined` names all of them. */
export async function resetSettings(
  configDir: string,
  givenNames: string[] | undefined,
): Promise<SettingsReport> {
  if (givenNames?.length === 0) {
    throw usageError('Name the settings to reset, or pass --all.', [
      `For example: ${homeauthCommand('settings reset trust-proxy')}`,
    ])
  }
  const unknown = givenNames?.find((name) => !isStoredSettingName(name))
  if (unknown !== undefined) {
    throw usageError(`${JSON.stringify(unknown)} is not a setting.`, [
      `The settings are ${storedSettingNames.join(', ')}.`,
    ])
  }
  const names = withPairs((givenNames as StoredSettingName[] | undefined) ?? [...storedSettingNames])
  return changeServeSection(configDir, names, (serve) =>
    names.reduce((changed, name) => withSetting(changed, name, undefined), serve),
  )
}

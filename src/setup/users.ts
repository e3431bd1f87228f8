import {configFile, requireConfig, type HomeauthConfig, type StoredUser} from '../config/config.js'
import {withConfigLock} from '../config/files.js'
import {checkCredential} from '../credentials/sources.js'
import {hashPassword} from '../credentials/hash.js'
import {usageError} from '../errors.js'
import {homeauthCommand, shellQuoted} from '../invocation.js'
import {signalReload, type ServerRecord} from '../daemon/state.js'

/** What a change to the users did: whom it concerned and which running server was told to reload. */
export interface UserChangeResult {
  name: string
  /** The running server that was told to reload, if any; only one that checks the stored hashes takes the change. */
  signalledServer: Pick<ServerRecord, 'pid' | 'credentials'> | undefined
}

/** A user as `user list` shows it: never the hash. */
export interface UserSummary {
  name: string
  passwordSetAt: string | null
}

/** A user name as typed, checked as Basic auth needs it (no control characters, no ":") and NFC-normalised. */
export function checkUserName(name: string): string {
  return checkCredential('user name', name)
}

/** The stored user called `name` (compared NFC-normalised), if any. */
export function findUser(config: HomeauthConfig, name: string): StoredUser | undefined {
  const wanted = name.normalize('NFC')
  return config.users.find((user) => user.name === wanted)
}

/** The stored users' names, comma-separated, for messages that list them. */
export function userNames(config: HomeauthConfig): string {
  return config.users.map((user) => user.name).join(', ')
}

/** The error for a name no stored user has, naming the ones there are. */
export function unknownUserError(config: HomeauthConfig, name: string) {
  return usageError(`There is no user named ${JSON.stringify(name)} (users: ${userNames(config)}).`, [
    `Add one with: ${homeauthCommand(`user add ${shellQuoted(name)}`)}`,
  ])
}

/**
 * The error for a name no stored user has, given where a stored user is picked (`picker` says how)
 * and never renamed: a rename is adding the new name, then removing the old one.
 */
export function notRenamedError(config: HomeauthConfig, name: string, picker: string) {
  return usageError(
    `There is no user named ${JSON.stringify(name)} (users: ${userNames(config)}); ${picker}, it does not rename.`,
    [
      `Add ${name} with: ${homeauthCommand(`user add ${shellQuoted(name)}`)} (to rename, then remove the old name with user remove).`,
    ],
  )
}

function existingUserError(name: string) {
  return usageError(`There is already a user named ${JSON.stringify(name)}.`, [
    `Change their password with: ${homeauthCommand(`passwd --username ${shellQuoted(name)}`)}`,
  ])
}

/** Refuses `name` when a user has it already: checked before asking for a password, and again under the lock. */
export function checkNewUserName(config: HomeauthConfig, name: string): void {
  if (findUser(config, name)) throw existingUserError(name)
}

/** Writes `users` (and the devices of those users) into config.json under the config lock, then tells a running server. */
async function changeUsers(
  configDir: string,
  name: string,
  change: (config: HomeauthConfig) => StoredUser[],
): Promise<UserChangeResult> {
  await withConfigLock(configDir, async ({updateFileSet}) => {
    // Read inside the lock: another writer's change (a user added meanwhile) is kept, never overwritten.
    const config = await requireConfig(configDir)
    const users = change(config)
    // A removed user's devices go with them.
    const devices = config.devices?.filter((device) => users.some((user) => user.name === device.user))
    await updateFileSet([configFile({...config, users, ...(devices ? {devices} : {})})])
  })
  return {name, signalledServer: await signalReload(configDir)}
}

/** Adds a user with a new password (hashed before the lock is taken: scrypt is the slow part). */
export async function addUser(
  configDir: string,
  user: {name: string; password: string},
  now = new Date(),
): Promise<UserChangeResult> {
  const name = checkUserName(user.name)
  const passwordHash = await hashPassword(user.password)
  return changeUsers(configDir, name, (config) => {
    checkNewUserName(config, name)
    return [...config.users, {name, passwordHash, passwordSetAt: now.toISOString()}]
  })
}

/** Removes a user; the last one is refused, since a server with no users could admit no one. */
export async function removeUser(configDir: string, givenName: string): Promise<UserChangeResult> {
  const name = givenName.normalize('NFC')
  return changeUsers(configDir, name, (config) => {
    if (!findUser(config, name)) throw unknownUserError(config, name)
    if (config.users.length === 1) {
      throw usageError(`${JSON.stringify(name)} is the only user; homeauth needs at least one.`, [
        `Add the user who replaces them first (${homeauthCommand('user add NAME')}), then remove ${name}; or change the password with ${homeauthCommand('passwd')}.`,
      ])
    }
    return config.users.filter((user) => user.name !== name)
  })
}

/** Replaces one user's password hash; the others stay as they are. */
export async function setPassword(
  configDir: string,
  change: {name: string; password: string},
  now = new Date(),
): Promise<UserChangeResult> {
  const name = change.name.normalize('NFC')
  const passwordHash = await hashPassword(change.password)
  return changeUsers(configDir, name, (config) => {
    if (!findUser(config, name)) throw unknownUserError(config, name)
    return config.users.map((user) =>
      user.name === name ? {name, passwordHash, passwordSetAt: now.toISOString()} : user,
    )
  })
}

/** The stored users, in the order they were added, without their hashes. */
export async function listUsers(configDir: string): Promise<UserSummary[]> {
  const config = await requireConfig(configDir)
  return config.users.map(({name, passwordSetAt}) => ({name, passwordSetAt}))
}

import {configFile, requireConfig} from '../config/config.js'
import {withConfigLock} from '../config/files.js'
import {hashPassword} from '../credentials/hash.js'
import {signalReload, type ServerRecord} from '../server/state.js'

export interface PasswdResult {
  username: string
  /** The running server that was told to reload, if any; only one that checks the stored hash takes the change. */
  signalledServer: Pick<ServerRecord, 'pid' | 'credentials'> | undefined
}

/** Stores a new password hash (and optionally a new user name); certificates stay as they are. */
export async function changeCredentials(
  configDir: string,
  change: {username?: string; password: string},
): Promise<PasswdResult> {
  const passwordHash = await hashPassword(change.password)
  const username = await withConfigLock(configDir, async ({updateFileSet}) => {
    const config = await requireConfig(configDir)
    const username = change.username ?? config.username
    await updateFileSet([configFile({...config, username, passwordHash})])
    return username
  })
  const running = await signalReload(configDir)
  return {username, signalledServer: running}
}

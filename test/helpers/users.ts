import {readFileSync} from 'node:fs'
import path from 'node:path'

import {parseConfig, type HomeauthConfig} from '../../src/config/config.js'
import {initConfig, runCli} from './cli.js'
import {useConfigCopies} from './config-copies.js'

/** The users of the user-management tests: JeffLynne from init, Bev added. */
export const jeff = {username: 'JeffLynne', password: 'Livin Thing'}
export const bev = {username: 'Bev', password: 'Bevan on cello'}

/** Per test, a copy of one `init` for JeffLynne per file (see `useConfigCopies`). */
export const useInitialisedForJeff = () =>
  useConfigCopies((configDir) => initConfig(configDir, jeff, '--no-qr'))

export function storedConfig(configDir: string): HomeauthConfig {
  const file = path.join(configDir, 'config.json')
  return parseConfig(readFileSync(file, 'utf8'), file)
}

export function addUser(configDir: string, name: string, password: string, ...extra: string[]) {
  return runCli(['user', 'add', name, '--config-dir', configDir, '--password-stdin', ...extra], {
    input: `${password}\n`,
  })
}

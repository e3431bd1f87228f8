import {readFileSync, writeFileSync} from 'node:fs'
import path from 'node:path'

import {initConfig} from './cli.js'
import {useConfigCopies} from './config-copies.js'

export const owner = {username: 'JeffLynne', password: 'Sweet Talkin Woman'}
export const secret = 'Hello from homeauth: only you can read this.'

/**
 * `homeauth init` in `configDir`, then config.json set to 127.0.0.1 and port 0, so that a plain
 * `serve --config-dir` (as a unit runs it) listens on a free loopback port.
 */
export async function initialisedForLoopback(configDir: string): Promise<string> {
  await initConfig(configDir, owner, '--no-qr')
  const file = path.join(configDir, 'config.json')
  const config = JSON.parse(readFileSync(file, 'utf8')) as {serve: object}
  writeFileSync(file, JSON.stringify({...config, serve: {...config.serve, host: '127.0.0.1', port: 0}}), {
    mode: 0o600,
  })
  return configDir
}

/** Per test, a copy of one `init` per file set to 127.0.0.1 and port 0 (see `useConfigCopies`). */
export function useInitialisedConfig(): () => string {
  return useConfigCopies(initialisedForLoopback)
}

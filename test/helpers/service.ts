import {expect} from 'vitest'

import {initConfig, loopbackFlags, runCli} from './cli.js'
import {useConfigCopies} from './config-copies.js'

export const owner = {username: 'JeffLynne', password: 'Sweet Talkin Woman'}
export const secret = 'Hello from homeauth: only you can read this.'

/**
 * `homeauth init` in `configDir`, then `settings set` to 127.0.0.1 and port 0, so that a plain
 * `serve --config-dir` (as a unit runs it) listens on a free loopback port.
 */
export async function initialisedForLoopback(configDir: string): Promise<string> {
  await initConfig(configDir, owner, '--no-qr')
  const result = await runCli(['settings', 'set', '--config-dir', configDir, ...loopbackFlags])
  expect(result.code, result.stderr).toBe(0)
  return configDir
}

/** Per test, a copy of one `init` per file set to 127.0.0.1 and port 0 (see `useConfigCopies`). */
export function useInitialisedConfig(): () => string {
  return useConfigCopies(initialisedForLoopback)
}

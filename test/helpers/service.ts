import {readFileSync, writeFileSync} from 'node:fs'
import path from 'node:path'

import {expect} from 'vitest'

import {runCli} from './cli.js'

export const owner = {username: 'JeffLynne', password: 'Sweet Talkin Woman'}
export const secret = 'Hello from homeauth: only you can read this.'

/**
 * `homeauth init` in `configDir`, then config.json set to 127.0.0.1 and port 0, so that a plain
 * `serve --config-dir` (as a unit runs it) listens on a free loopback port.
 */
export async function initialisedForLoopback(configDir: string): Promise<string> {
  const result = await runCli(
    ['init', '--config-dir', configDir, '-u', owner.username, '--password-stdin', '--yes', '--no-qr'],
    {input: `${owner.password}\n`},
  )
  expect(result.code, result.stderr).toBe(0)
  const file = path.join(configDir, 'config.json')
  const config = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>
  writeFileSync(file, JSON.stringify({...config, host: '127.0.0.1', port: 0}), {mode: 0o600})
  return configDir
}

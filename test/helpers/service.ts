import {copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import os from 'node:os'
import path from 'node:path'

import {afterAll, afterEach, beforeAll} from 'vitest'

import {initConfig} from './cli.js'

export const owner = {username: 'JeffLynne', password: 'Sweet Talkin Woman'}
export const secret = 'Hello from homeauth: only you can read this.'

/**
 * `homeauth init` in `configDir`, then config.json set to 127.0.0.1 and port 0, so that a plain
 * `serve --config-dir` (as a unit runs it) listens on a free loopback port.
 */
export async function initialisedForLoopback(configDir: string): Promise<string> {
  await initConfig(configDir, owner, '--no-qr')
  const file = path.join(configDir, 'config.json')
  const config = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>
  writeFileSync(file, JSON.stringify({...config, host: '127.0.0.1', port: 0}), {mode: 0o600})
  return configDir
}

/**
 * One `init` per test file (scrypt and key generation take seconds), and a function that gives each
 * test a config directory of its own holding a copy of its config.json: enough for service install,
 * which reads only that.
 */
export function useInitialisedConfig(): () => string {
  let source = ''
  const made: string[] = []
  beforeAll(async () => {
    source = await initialisedForLoopback(
      path.join(mkdtempSync(path.join(os.tmpdir(), 'homeauth-test-')), 'config'),
    )
  }, 60_000)
  afterAll(() => rmSync(path.dirname(source), {recursive: true, force: true}))
  afterEach(() => {
    for (const dir of made.splice(0)) rmSync(dir, {recursive: true, force: true})
  })
  return () => {
    const parent = mkdtempSync(path.join(os.tmpdir(), 'homeauth-test-'))
    made.push(parent)
    const configDir = path.join(parent, 'config')
    mkdirSync(configDir, {mode: 0o700})
    copyFileSync(path.join(source, 'config.json'), path.join(configDir, 'config.json'))
    return configDir
  }
}

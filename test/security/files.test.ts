import {chmodSync, chownSync, readFileSync, writeFileSync} from 'node:fs'
import path from 'node:path'

import {describe, expect, it} from 'vitest'

import {ExitCode} from '../../src/errors.js'
import {runCli, serveArgs} from '../helpers/cli.js'
import {readTree} from '../helpers/files.js'
import {useTempDir} from '../helpers/temp.js'

const tempDir = useTempDir()

async function initialised(): Promise<string> {
  const configDir = tempDir()
  const result = await runCli(
    ['init', '--config-dir', configDir, '-u', 'JeffLynne', '--password-stdin', '--yes'],
    {input: 'ELO\n'},
  )
  expect(result.code).toBe(0)
  return configDir
}

async function serveRefuses(configDir: string, message: string | RegExp, suggestion: string) {
  const before = readTree(configDir)
  const result = await runCli(serveArgs(configDir))
  expect(result.code).toBe(ExitCode.invalidSetup)
  if (typeof message === 'string') expect(result.stderr).toContain(message)
  else expect(result.stderr).toMatch(message)
  expect(result.stderr).toContain(suggestion)
  expect(result.stderr).not.toMatch(/\n\s+at /)
  expect(readTree(configDir)).toEqual(before)
}

describe('serve refuses unsafe or damaged files, naming them and the fix, and overwrites nothing', () => {
  it('refuses a private key other users can read (chmod 644), as ssh does', async () => {
    const configDir = await initialised()
    const key = path.join(configDir, 'ca-key.pem')
    chmodSync(key, 0o644)
    await serveRefuses(configDir, `${key} can be read by other users (mode 0644)`, `Run: chmod 600 ${key}`)
  })

  it('refuses a config.json other users can read', async () => {
    const configDir = await initialised()
    const config = path.join(configDir, 'config.json')
    chmodSync(config, 0o640)
    await serveRefuses(
      configDir,
      `${config} can be read by other users (mode 0640)`,
      `Run: chmod 600 ${config}`,
    )
  })

  it('refuses a config directory that belongs to another user', async () => {
    if (process.getuid?.() !== 0) return
    const configDir = await initialised()
    chownSync(configDir, 65534, 65534)
    await serveRefuses(
      configDir,
      `The config directory ${configDir} belongs to another user (uid 65534).`,
      '--config-dir',
    )
  })

  it('refuses a truncated server certificate and points to cert renew', async () => {
    const configDir = await initialised()
    const cert = path.join(configDir, 'server.pem')
    writeFileSync(cert, readFileSync(cert, 'utf8').slice(0, 200))
    await serveRefuses(configDir, `${cert} is not a PEM certificate.`, 'homeauth cert renew')
  })

  it('refuses a truncated CA key and points to a new CA', async () => {
    const configDir = await initialised()
    const key = path.join(configDir, 'ca-key.pem')
    writeFileSync(key, readFileSync(key, 'utf8').slice(0, 60))
    await serveRefuses(configDir, `${key} is not a PEM private key.`, 'homeauth init --force --new-ca')
  })

  it('refuses a truncated config.json and points to init --force', async () => {
    const configDir = await initialised()
    const config = path.join(configDir, 'config.json')
    writeFileSync(config, readFileSync(config, 'utf8').slice(0, 40))
    await serveRefuses(
      configDir,
      `${config} is not valid JSON (truncated or hand-edited?).`,
      'homeauth init --force',
    )
  })
})

describe('a config directory that is a file', () => {
  it('is refused with exit 8 by every command that needs it', async () => {
    const file = `${tempDir()}/not-a-dir`
    writeFileSync(file, 'x')
    for (const args of [
      ['serve', '-u', 'a', '-p', 'b'],
      ['passwd', '-p', 'b'],
      ['init', '--yes', '-u', 'a', '-p', 'b'],
    ]) {
      const result = await runCli([...args, '--config-dir', file])
      expect(result.code, args[0]).toBe(ExitCode.invalidSetup)
      expect(result.stderr).toContain(`The config directory ${file} is not a directory.`)
    }
  })
})

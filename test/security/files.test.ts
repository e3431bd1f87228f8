import {chmodSync, chownSync, copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import os from 'node:os'
import path from 'node:path'

import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {ExitCode} from '../../src/errors.js'
import {cliCommand, initConfig, runCli, serveArgs} from '../helpers/cli.js'
import {useConfigCopies} from '../helpers/config-copies.js'
import {readTree} from '../helpers/files.js'
import {useTempDir} from '../helpers/temp.js'

const tempDir = useTempDir()

const initialised = useConfigCopies((configDir) =>
  initConfig(configDir, {username: 'JeffLynne', password: 'Evil Woman'}),
)

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
    const configDir = initialised()
    const key = path.join(configDir, 'ca-key.pem')
    chmodSync(key, 0o644)
    await serveRefuses(configDir, `${key} can be read by other users (mode 0644)`, `Run: chmod 600 ${key}`)
  })

  it('refuses a config.json other users can read', async () => {
    const configDir = initialised()
    const config = path.join(configDir, 'config.json')
    chmodSync(config, 0o640)
    await serveRefuses(
      configDir,
      `${config} can be read by other users (mode 0640)`,
      `Run: chmod 600 ${config}`,
    )
  })

  it.skipIf(process.getuid?.() !== 0)(
    'refuses a config directory that belongs to another user (needs root, to chown it)',
    async () => {
      const configDir = initialised()
      chownSync(configDir, 65534, 65534)
      await serveRefuses(
        configDir,
        `The config directory ${configDir} belongs to another user (uid 65534).`,
        '--config-dir',
      )
    },
  )

  it('refuses a truncated server certificate and points to cert renew', async () => {
    const configDir = initialised()
    const cert = path.join(configDir, 'server.pem')
    writeFileSync(cert, readFileSync(cert, 'utf8').slice(0, 200))
    await serveRefuses(configDir, `${cert} is not a PEM certificate.`, `${cliCommand} cert renew`)
  })

  it('refuses a truncated CA key and points to a new CA', async () => {
    const configDir = initialised()
    const key = path.join(configDir, 'ca-key.pem')
    writeFileSync(key, readFileSync(key, 'utf8').slice(0, 60))
    await serveRefuses(configDir, `${key} is not a PEM private key.`, `${cliCommand} init --force --new-ca`)
  })

  it('refuses a truncated config.json and points to init --force', async () => {
    const configDir = initialised()
    const config = path.join(configDir, 'config.json')
    writeFileSync(config, readFileSync(config, 'utf8').slice(0, 40))
    await serveRefuses(
      configDir,
      `${config} is not valid JSON (truncated or hand-edited?).`,
      `${cliCommand} init --force`,
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

describe('a config directory other users can write to', () => {
  // One initialised directory for every command: each must refuse it and leave it as it was.
  let configDir: string
  let before: Record<string, Buffer>
  beforeAll(async () => {
    configDir = mkdtempSync(path.join(os.tmpdir(), 'homeauth-test-'))
    const init = await runCli(
      ['init', '--config-dir', configDir, '-u', 'JeffLynne', '--password-stdin', '--yes'],
      {input: 'Evil Woman\n'},
    )
    expect(init.code).toBe(0)
    chmodSync(configDir, 0o777)
    before = readTree(configDir)
  })
  afterAll(() => rmSync(configDir, {recursive: true, force: true}))

  it.each([
    ['passwd', ['passwd', '--password-stdin']],
    ['cert renew', ['cert', 'renew']],
    ['cert', ['cert']],
    ['fetch-secret', ['fetch-secret', '--password-stdin']],
    ['status', ['status']],
    ['stop', ['stop']],
    ['logs', ['logs']],
    ['serve', ['serve']],
    ['init', ['init', '--force', '--yes', '--password-stdin']],
  ])('is refused by %s with exit 8 and the chmod that fixes it, touching nothing', async (_name, args) => {
    const result = await runCli([...args, '--config-dir', configDir], {input: 'Evil Woman\n'})
    expect(result.code).toBe(ExitCode.invalidSetup)
    expect(result.stderr).toContain(
      `The config directory ${configDir} can be written by other users (mode 0777).`,
    )
    expect(result.stderr).toContain(`Run: chmod 700 ${configDir}`)
    expect(readTree(configDir)).toEqual(before)
  })

  it('is not needed to exist: status on a missing directory says not running', async () => {
    const result = await runCli(['status', '--config-dir', path.join(tempDir(), 'none')])
    expect(result).toMatchObject({code: ExitCode.notRunning, stdout: 'homeauth is not running.\n'})
  })
})

describe('files the user hands in that other users can read', () => {
  it('refuses serve --key with mode 0644, naming the chmod, and writes nothing', async () => {
    const source = initialised()
    const mine = tempDir()
    const cert = path.join(mine, 'cert.pem')
    const key = path.join(mine, 'key.pem')
    copyFileSync(path.join(source, 'server.pem'), cert)
    copyFileSync(path.join(source, 'server-key.pem'), key)
    chmodSync(key, 0o644)
    const configDir = tempDir()
    const result = await runCli(serveArgs(configDir, '-u', 'a', '-p', 'b', '--cert', cert, '--key', key))
    expect(result.code).toBe(ExitCode.invalidSetup)
    expect(result.stderr).toContain(`The key file ${key} can be read by other users (mode 0644)`)
    expect(result.stderr).toContain(`Run: chmod 600 ${key}`)
    expect(readTree(configDir)).toEqual({})
  })

  it.each([
    [
      'serve',
      (configDir: string, file: string) => serveArgs(configDir, '-u', 'a', '-p', 'b', '--secret-file', file),
    ],
    [
      'init',
      (configDir: string, file: string) => [
        'init',
        '--config-dir',
        configDir,
        '-u',
        'a',
        '-p',
        'Evil Woman',
        '--yes',
        '--secret-file',
        file,
      ],
    ],
  ])('refuses %s --secret-file with mode 0644, naming the chmod, and writes nothing', async (_name, argv) => {
    const file = path.join(tempDir(), 'message.txt')
    writeFileSync(file, 'Mr Blue Sky\n', {mode: 0o644})
    const configDir = tempDir()
    const result = await runCli(argv(configDir, file))
    expect(result.code).toBe(ExitCode.invalidSetup)
    expect(result.stderr).toContain(`The secret file ${file} can be read by other users (mode 0644)`)
    expect(result.stderr).toContain(`Run: chmod 600 ${file}`)
    expect(readTree(configDir)).toEqual({})
  })
})

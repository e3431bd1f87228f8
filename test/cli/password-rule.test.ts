import {existsSync, readFileSync} from 'node:fs'
import path from 'node:path'

import {describe, expect, it} from 'vitest'

import {ExitCode} from '../../src/errors.js'
import {initConfig, runCli} from '../helpers/cli.js'
import {useConfigCopies} from '../helpers/config-copies.js'
import {runInTerminal} from '../helpers/terminal.js'
import {useTempDir} from '../helpers/temp.js'

const tempDir = useTempDir()
const password = 'Evil Woman 1975'
const refusal = 'Error: The new password is shorter than 8 characters.'

/** The ways a script gives init or passwd a password: -p, --password-stdin, HOMEAUTH_PASSWORD. */
const shortInputs: [string, string[], {env?: Record<string, string>; input?: string}][] = [
  ['-p', ['-p', 'ELO'], {}],
  ['--password-stdin', ['--password-stdin'], {input: 'ELO\n'}],
  ['HOMEAUTH_PASSWORD', [], {env: {HOMEAUTH_PASSWORD: 'ELO'}}],
]

const initialised = useConfigCopies((configDir) => initConfig(configDir, {username: 'JeffLynne', password}))

/** The failure's own line (-p also prints its warning about ps before it). */
const errorLines = (stderr: string) => stderr.split('\n').filter((line) => line.startsWith('Error:'))

const storedHash = (configDir: string) =>
  JSON.parse(readFileSync(path.join(configDir, 'config.json'), 'utf8')).users[0].passwordHash as string

describe('a new password shorter than 8 characters', () => {
  it.each(shortInputs)(
    'is refused by init from %s with exit 2 and one sentence, writing nothing',
    async (_, args, options) => {
      const configDir = tempDir()
      const result = await runCli(
        ['init', '--config-dir', configDir, '-u', 'JeffLynne', '--yes', ...args],
        options,
      )
      expect(result.code).toBe(ExitCode.usage)
      expect(errorLines(result.stderr)).toEqual([refusal])
      expect(result.stderr).toContain('--allow-short-password')
      expect(existsSync(path.join(configDir, 'config.json'))).toBe(false)
    },
  )

  it.each(shortInputs)(
    'is refused by passwd from %s with exit 2, keeping the stored hash',
    async (_, args, options) => {
      const configDir = initialised()
      const before = storedHash(configDir)
      const result = await runCli(['passwd', '--config-dir', configDir, ...args], options)
      expect(result.code).toBe(ExitCode.usage)
      expect(errorLines(result.stderr)).toEqual([refusal])
      expect(storedHash(configDir)).toBe(before)
    },
  )

  it('is refused as JSON with exit 2 by init --json', async () => {
    const result = await runCli(
      ['init', '--config-dir', tempDir(), '-u', 'JeffLynne', '--yes', '--password-stdin', '--json'],
      {input: 'ELO\n'},
    )
    expect(result.code).toBe(ExitCode.usage)
    expect(JSON.parse(result.stdout).error).toMatchObject({
      code: ExitCode.usage,
      message: 'The new password is shorter than 8 characters.',
    })
  })

  it('counts characters, not bytes: eight accented letters are enough, seven are not', async () => {
    const seven = await runCli(
      ['init', '--config-dir', tempDir(), '-u', 'JeffLynne', '--yes', '--password-stdin'],
      {
        input: `${'e\u0301'.repeat(7)}\n`,
      },
    )
    expect(seven.code).toBe(ExitCode.usage)
    const eight = await runCli(
      ['init', '--config-dir', tempDir(), '-u', 'JeffLynne', '--yes', '--password-stdin'],
      {
        input: `${'é'.repeat(8)}\n`,
      },
    )
    expect(eight.code).toBe(0)
  })

  it('is stored by init and passwd with --allow-short-password', async () => {
    const configDir = tempDir()
    const init = await runCli([
      'init',
      '--config-dir',
      configDir,
      '-u',
      'JeffLynne',
      '--yes',
      '-p',
      'ELO',
      '--allow-short-password',
    ])
    expect(init.code).toBe(0)
    const before = storedHash(configDir)
    const passwd = await runCli(['passwd', '--config-dir', configDir, '--allow-short-password'], {
      env: {HOMEAUTH_PASSWORD: 'ELO2'},
    })
    expect(passwd.code).toBe(0)
    expect(storedHash(configDir)).not.toBe(before)
  })

  it('is asked for again at init’s prompt, with the reason, on an empty prompt', async () => {
    const configDir = tempDir()
    const session = await runInTerminal(
      ['init', '--config-dir', configDir, '-u', 'JeffLynne', '--secret', 'Hold On Tight', '--yes'],
      [
        [/New password for JeffLynne/, 'ELO\r'],
        [/shorter than 8 characters\. Choose a longer one\./, ''],
        [/New password for JeffLynne/, `${password}\r`],
        [/same password again/, `${password}\r`],
      ],
    )
    expect(session.code).toBe(0)
    expect(session.output).toContain('homeauth is set up')
  })

  it('is asked for again at passwd’s prompt, with the reason', async () => {
    const configDir = initialised()
    const before = storedHash(configDir)
    const session = await runInTerminal(
      ['passwd', '--config-dir', configDir],
      [
        [/New password for JeffLynne/, 'short\r'],
        [/shorter than 8 characters\. Choose a longer one\./, ''],
        [/New password for JeffLynne/, 'Sweet Talkin Woman\r'],
        [/same password again/, 'Sweet Talkin Woman\r'],
      ],
    )
    expect(session.code).toBe(0)
    expect(session.output).toContain('Password for JeffLynne changed')
    expect(storedHash(configDir)).not.toBe(before)
  })
})

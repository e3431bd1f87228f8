import {readFileSync} from 'node:fs'
import path from 'node:path'

import {afterEach, describe, expect, it} from 'vitest'

import {cliCommand, initConfig, runCli, serveArgs} from '../helpers/cli.js'
import {useConfigCopies} from '../helpers/config-copies.js'
import {runInTerminal} from '../helpers/terminal.js'
import {useTempDir} from '../helpers/temp.js'

const tempDir = useTempDir()
const password = 'Livin Thing'
const warning = /visible to other users in ps/g
const detached: string[] = []

afterEach(async () => {
  for (const configDir of detached.splice(0)) await runCli(['stop', '--config-dir', configDir])
})

const warnings = (text: string) => text.match(warning)?.length ?? 0

const initialised = useConfigCopies((configDir) => initConfig(configDir, {username: 'JeffLynne', password}))

/** init with the password and the secret on its command line, where ps shows them. */
const initWithVisibleSecrets = (...extra: string[]) =>
  runCli([
    'init',
    '--config-dir',
    tempDir(),
    '-u',
    'JeffLynne',
    '-p',
    password,
    '--secret',
    'Hold On Tight',
    '--yes',
    ...extra,
  ])

describe('the warning that -p and --secret show in ps, stderr a pipe', () => {
  it('is one line for init with both -p and --secret, naming both', async () => {
    const result = await initWithVisibleSecrets()
    expect(result.code).toBe(0)
    expect(warnings(result.stderr)).toBe(1)
    expect(result.stderr).toContain(
      `Warning: -p/--password and --secret are visible to other users in ps; prefer --password-stdin, HOMEAUTH_PASSWORD, --secret-file, HOMEAUTH_SECRET or ${cliCommand} init --config-dir `,
    )
  })

  it('is printed once by passwd -p', async () => {
    const result = await runCli(['passwd', '--config-dir', initialised(), '-p', 'Sweet Talkin Woman'])
    expect(result.code).toBe(0)
    expect(warnings(result.stderr)).toBe(1)
  })

  it('is printed once by serve --detach, by the command and not again by the background server', async () => {
    const configDir = tempDir()
    detached.push(configDir)
    const result = await runCli([
      ...serveArgs(configDir, '-u', 'JeffLynne', '-p', password, '--secret', 'Hold On Tight'),
      '--detach',
    ])
    expect(result.code).toBe(0)
    expect(warnings(result.stdout + result.stderr)).toBe(1)
    expect(warnings(readFileSync(path.join(configDir, 'serve.log'), 'utf8'))).toBe(0)
  })

  it('is not printed with --json (init, fetch-secret)', async () => {
    const init = await initWithVisibleSecrets('--json')
    expect(init.code).toBe(0)
    expect(init.stderr).toBe('')
    const fetched = await runCli(['fetch-secret', '--config-dir', initialised(), '-p', password, '--json'])
    expect(JSON.parse(fetched.stdout).error.code).toBe(3)
    expect(warnings(fetched.stderr)).toBe(0)
  })
})

describe('the warning that -p shows in ps, at a terminal', () => {
  it('is printed once by init --json too, since a person reads stderr there', async () => {
    const session = await runInTerminal(
      [
        'init',
        '--config-dir',
        tempDir(),
        '-u',
        'JeffLynne',
        '-p',
        password,
        '--secret',
        'x',
        '--yes',
        '--json',
      ],
      [],
    )
    expect(session.code).toBe(0)
    expect(warnings(session.output)).toBe(1)
  })

  it('is printed once by passwd -p', async () => {
    const session = await runInTerminal(
      ['passwd', '--config-dir', initialised(), '-p', 'Sweet Talkin Woman'],
      [],
    )
    expect(session.code).toBe(0)
    expect(warnings(session.output)).toBe(1)
  })
})

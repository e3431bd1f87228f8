import {spawnSync} from 'node:child_process'
import {chmodSync, mkdirSync, statSync} from 'node:fs'
import path from 'node:path'

import {describe, expect, it} from 'vitest'

import {projectDir, runCli, type CliResult} from '../helpers/cli.js'
import {useConfigCopies} from '../helpers/config-copies.js'
import {modeOf} from '../helpers/files.js'
import {useTempDir} from '../helpers/temp.js'
import {jeff} from '../helpers/users.js'

/** A name a shell would split at the space and choke on at the quote, were it printed unquoted. */
const awkwardName = "Jeff's home auth"
const isRoot = process.getuid?.() === 0

const tempDir = useTempDir()
let initResult: CliResult
const configCopy = useConfigCopies(async (configDir) => {
  initResult = await runCli(
    ['init', '--config-dir', configDir, '-u', jeff.username, '--password-stdin', '--yes'],
    {
      input: `${jeff.password}\n`,
    },
  )
  expect(initResult.code, initResult.stderr).toBe(0)
}, awkwardName)

/** The command a failure's `Try:` line names after `label` (e.g. "Run: "). */
function hint(result: CliResult, label: string): string {
  const line = result.stderr.split('\n').find((text) => text.startsWith(`  Try: ${label}`))
  expect(line, result.stderr).toBeDefined()
  return line!.slice(`  Try: ${label}`.length).replace(/,? or pass .*$/, '')
}

/** Runs a printed command the way a user pasting it would: `sh -c`, from `cwd`. */
function runInShell(command: string, cwd: string, input = '') {
  const result = spawnSync('sh', ['-c', command], {cwd, input, encoding: 'utf8'})
  expect(result.status, `${command}\n${result.stderr}`).toBe(0)
  return result
}

/** The words `sh` reads in a printed command line, without running it. */
function shellWords(command: string): string[] {
  const result = spawnSync('sh', ['-c', `set -- ${command}; printf '%s\\0' "$@"`], {encoding: 'utf8'})
  expect(result.status, result.stderr).toBe(0)
  return result.stdout.split('\0').slice(0, -1)
}

describe('commands printed for a shell to run, with a config directory named with a space and a quote', () => {
  it('names the directory that chmod 700 must tighten so that sh acts on it and on nothing else', async () => {
    const parent = tempDir()
    const configDir = path.join(parent, awkwardName)
    // Where an unquoted path would land: its words, relative to where the command is run.
    const decoys = ["Jeff's", 'home', 'auth'].map((word) => path.join(parent, word))
    for (const dir of [configDir, ...decoys]) mkdirSync(dir)
    chmodSync(configDir, 0o777)
    for (const decoy of decoys) chmodSync(decoy, 0o777)

    const refused = await runCli(['status', '--config-dir', configDir])
    expect(refused.code).toBe(8)
    runInShell(hint(refused, 'Run: '), parent)
    expect(modeOf(configDir)).toBe(0o700)
    for (const decoy of decoys) expect(modeOf(decoy)).toBe(0o777)
    expect((await runCli(['status', '--config-dir', configDir])).code).toBe(3)
  })

  it('names the file that chmod 600 must tighten so that sh acts on it', async () => {
    const configDir = configCopy()
    const file = path.join(configDir, 'config.json')
    chmodSync(file, 0o644)
    const refused = await runCli(['user', 'list', '--config-dir', configDir])
    expect(refused.code).toBe(8)
    runInShell(hint(refused, 'Run: '), projectDir)
    expect(modeOf(file)).toBe(0o600)
    expect((await runCli(['user', 'list', '--config-dir', configDir])).code).toBe(0)
  })

  it('keeps the --config-dir it was given in a homeauth command, so that it acts on that directory', async () => {
    const configDir = configCopy()
    const refused = await runCli(['user', 'remove', 'Bev Bevan', '--config-dir', configDir])
    expect(refused.code).toBe(2)
    const add = hint(refused, 'Add one with: ')
    expect(shellWords(add).slice(1)).toEqual(['user', 'add', 'Bev Bevan', '--config-dir', configDir])
    runInShell(`${add} --password-stdin`, projectDir, 'Bevan on cello\n')
    const listed = await runCli(['user', 'list', '--config-dir', configDir])
    expect(listed.stdout).toContain('Bev Bevan')
  })

  it('leaves --config-dir out when the shell would use that directory anyway (HOMEAUTH_CONFIG_DIR)', async () => {
    const configDir = configCopy()
    for (const args of [[], ['--config-dir', configDir]]) {
      const refused = await runCli(['user', 'remove', 'Bev', ...args], {
        env: {HOMEAUTH_CONFIG_DIR: configDir},
      })
      expect(shellWords(hint(refused, 'Add one with: ')).slice(1)).toEqual(['user', 'add', 'Bev'])
    }
  })

  it("quotes init's next steps: serve with its --config-dir, and curl with the CA file", () => {
    const [serve, curl] = initResult.stderr
      .split('\n')
      .filter((line) => line.startsWith('  '))
      .map((line) => shellWords(line.trim()))
    const configDir = serve!.at(-1)!
    expect(path.basename(configDir)).toBe(awkwardName)
    expect(serve!.slice(1)).toEqual(['serve', '--config-dir', configDir])
    expect(curl!.slice(0, 5)).toEqual([
      'curl',
      '--cacert',
      path.join(configDir, 'ca.pem'),
      '-u',
      jeff.username,
    ])
  })

  it.runIf(isRoot)(
    "names the directory that chown must give to the unit's user so that sh acts on it",
    async () => {
      const configDir = configCopy()
      const install = [
        'service',
        'install',
        '--system',
        '--user-name',
        'nobody',
        '--print',
        '--config-dir',
        configDir,
      ]
      const refused = await runCli(install)
      expect(refused.code).toBe(2)
      runInShell(hint(refused, 'Run: '), projectDir)
      expect(statSync(configDir).uid).toBe(65534)
      expect(statSync(path.join(configDir, 'config.json')).uid).toBe(65534)
      expect((await runCli(install)).code).toBe(0)
    },
  )
})

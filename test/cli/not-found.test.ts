import {describe, expect, it} from 'vitest'

import {closestId} from '../../src/hooks/command-not-found.js'
import {cliCommand, runCli} from '../helpers/cli.js'
import {useTempDir} from '../helpers/temp.js'
import {runInTerminal} from '../helpers/terminal.js'

const tempDir = useTempDir()

describe('a mistyped command without a terminal', () => {
  it.each([
    [['cert', 'renw'], 'cert renw', 'cert renew'],
    [['sevre'], 'sevre', 'serve'],
    [['certt'], 'certt', 'cert'],
    [['certt', 'renew'], 'certt renew', 'cert renew'],
    [['fetchsecret'], 'fetchsecret', 'fetch-secret'],
  ])('%j suggests the nearest command with spaces, runs nothing and exits 2', async (args, typed, meant) => {
    const {code, stdout, stderr} = await runCli(args, {env: {CI: 'true'}})
    expect(code).toBe(2)
    expect(stdout).toBe('')
    expect(stderr).toBe(
      `Error: "${typed}" is not a homeauth command. Did you mean "${meant}"?\n  Try: ${cliCommand} ${meant}\n`,
    )
  })

  it('points to --help when nothing is close', async () => {
    const {code, stderr} = await runCli(['xyzzy'])
    expect(code).toBe(2)
    expect(stderr).toBe(`Error: "xyzzy" is not a homeauth command.\n  Try: ${cliCommand} --help\n`)
  })

  it('never repeats the arguments, which may hold a password', async () => {
    const {code, stdout, stderr} = await runCli(['sevre', '-u', 'JeffLynne', '-p', 'Telephone Line'])
    expect(code).toBe(2)
    expect(stdout + stderr).not.toContain('Telephone Line')
  })

  it('prints the {"error": …} document with --json', async () => {
    const {code, stdout, stderr} = await runCli(['cert', 'renw', '--json'])
    expect(code).toBe(2)
    expect(stderr).toBe('')
    expect(JSON.parse(stdout)).toEqual({
      error: {
        code: 2,
        message: '"cert renw" is not a homeauth command. Did you mean "cert renew"?',
        suggestions: [`${cliCommand} cert renew`],
      },
    })
  })
})

describe('words after a command that takes no arguments', () => {
  it.each([
    [['logs', '50'], '50', 'homeauth logs'],
    [['cert', 'renew', 'now'], 'now', 'homeauth cert renew'],
  ])('%j is that command with an unexpected argument: exit 2 and its usage', async (args, word, usage) => {
    const {code, stderr} = await runCli(args)
    expect(code).toBe(2)
    expect(stderr).toContain(`Unexpected argument: ${word}`)
    expect(stderr).toContain(`USAGE\n  $ ${usage} [`)
    expect(stderr).not.toContain('not found')
  })

  it('fails as the {"error": …} document with --json', async () => {
    const {code, stdout} = await runCli(['status', 'now', '--json'])
    expect(code).toBe(2)
    expect(JSON.parse(stdout)).toMatchObject({error: {code: 2, message: 'Unexpected argument: now'}})
  })
})

describe('a mistyped command at a terminal', () => {
  it('runs the suggestion with the typed flags after an explicit "y"', async () => {
    const session = await runInTerminal(
      ['statsu', '--config-dir', tempDir()],
      [[/Run \.\/bin\/run\.js status now\?/, 'y\r']],
    )
    expect(session.output).toContain('Did you mean "status"?')
    expect(session.output).toContain('homeauth is not running.')
    expect(session.code).toBe(3)
  })

  it("shows the suggested command's usage when the typed flags do not fit it", async () => {
    const session = await runInTerminal(['statsu', '--bogus'], [[/Run \.\/bin\/run\.js status now\?/, 'y\r']])
    expect(session.output).toContain('Nonexistent flag: --bogus')
    expect(session.output).toContain('$ homeauth status [')
    expect(session.code).toBe(2)
  })

  it('runs nothing when Enter is pressed, and exits 2', async () => {
    const session = await runInTerminal(
      ['statsu', '--config-dir', tempDir()],
      [[/Run \.\/bin\/run\.js status now\? \(y\/N\)/, '\r']],
    )
    expect(session.output).not.toContain('not running')
    expect(session.code).toBe(2)
  })
})

describe('closestId', () => {
  const ids = ['cert', 'cert:export', 'cert:renew', 'init', 'serve', 'status', 'stop']

  it.each([
    ['sevre', 'serve'],
    ['cert:renw', 'cert:renew'],
    ['cert:exprot', 'cert:export'],
    ['stpo', 'stop'],
    ['statu', 'status'],
    ['inti', 'init'],
  ])('takes %s for %s', (typed, meant) => {
    expect(closestId(typed, ids)).toBe(meant)
  })

  it.each(['xyzzy', 'deploy', 'cert:renew:everything'])('suggests nothing for %s', (typed) => {
    expect(closestId(typed, ids)).toBeUndefined()
  })
})

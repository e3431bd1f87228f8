import {describe, expect, it} from 'vitest'

import {closestId, guessCommand} from '../../src/hooks/command-not-found.js'
import {cliCommand, runCli} from '../helpers/cli.js'
import {useTempDir} from '../helpers/temp.js'
import {runInTerminal} from '../helpers/terminal.js'
import {useInitialisedForJeff} from '../helpers/users.js'

const tempDir = useTempDir()
const initialised = useInitialisedForJeff()

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

  it.each([
    [['user', 'remve', 'bob'], 'user remve', 'user remove'],
    [['usr', 'add', 'carol'], 'usr add', 'user add'],
    [['usr', 'list'], 'usr list', 'user list'],
    [['sevre', 'hunter2xyz'], 'sevre', 'serve'],
  ])(
    '%j suggests a command though oclif folded the arguments into it, naming no argument',
    async (args, typed, meant) => {
      const {code, stdout, stderr} = await runCli(args)
      expect(code).toBe(2)
      expect(stdout).toBe('')
      expect(stderr).toBe(
        `Error: "${typed}" is not a homeauth command. Did you mean "${meant}"?\n  Try: ${cliCommand} ${meant}\n`,
      )
    },
  )

  it('names only the command, never the words typed after it, with no suggestion too', async () => {
    for (const [args, typed, help] of [
      [['pasword', 'hunter2xyz'], 'pasword', '--help'],
      [['xyzzy', 'hunter2xyz', 'more'], 'xyzzy', '--help'],
      [['user', 'hunter2xyz'], 'user hunter2xyz', 'user --help'],
    ] as const) {
      const text = await runCli([...args])
      expect(text.code).toBe(2)
      expect(text.stderr).toBe(`Error: "${typed}" is not a homeauth command.\n  Try: ${cliCommand} ${help}\n`)
      const json = await runCli([...args, '--json'])
      expect(json.code).toBe(2)
      expect(JSON.parse(json.stdout)).toEqual({
        error: {
          code: 2,
          message: `"${typed}" is not a homeauth command.`,
          suggestions: [`${cliCommand} ${help}`],
        },
      })
      if (typed !== 'user hunter2xyz') expect(text.stderr + json.stdout).not.toContain('hunter2xyz')
    }
  })

  it('keeps a --config-dir typed after it in the suggestion, quoted, but not in help', async () => {
    const configDir = `${tempDir()}/my homeauth`
    for (const args of [['--config-dir', configDir], [`--config-dir=${configDir}`]]) {
      const {stderr} = await runCli(['statsu', ...args])
      expect(stderr).toContain(`Try: ${cliCommand} status --config-dir '${configDir}'\n`)
    }
    expect((await runCli(['xyzzy', '--config-dir', configDir])).stderr).toContain(
      `Try: ${cliCommand} --help\n`,
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
    [['logs', '50'], 'logs'],
    [['cert', 'renew', 'now'], 'cert renew'],
    [['passwd', 'hunter2xyz'], 'passwd'],
    [['stop', 'hunter2xyz', '--config-dir', '/nonexistent'], 'stop'],
  ])('%j says the command takes none, without repeating them, and exits 2', async (args, command) => {
    const {code, stdout, stderr} = await runCli(args)
    expect(code).toBe(2)
    expect(stdout).toBe('')
    expect(stderr).toBe(`Error: "${command}" takes no arguments.\n  Try: ${cliCommand} ${command} --help\n`)
  })

  it('fails as the {"error": …} document with --json', async () => {
    const {code, stdout} = await runCli(['status', 'hunter2xyz', '--json'])
    expect(code).toBe(2)
    expect(JSON.parse(stdout)).toEqual({
      error: {code: 2, message: '"status" takes no arguments.', suggestions: [`${cliCommand} status --help`]},
    })
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

  it('runs the suggestion with the words typed after the mistyped command, after an explicit "y"', async () => {
    const session = await runInTerminal(
      ['user', 'remve', 'Bev', '--config-dir', initialised()],
      [[/Run \.\/bin\/run\.js user remove now, with what you typed after it\? \(y\/N\)/, 'y\r']],
    )
    expect(session.output).toContain('Did you mean "user remove"?')
    expect(session.output).toContain('There is no user named "Bev"')
    expect(session.code).toBe(2)
  })

  it('offers nothing to run when the words would be unexpected arguments of the suggestion', async () => {
    const session = await runInTerminal(['sevre', 'hunter2xyz', '--config-dir', tempDir()], [])
    expect(session.output).toContain('Did you mean "serve"?')
    expect(session.output).not.toContain('Run ')
    expect(session.output).not.toContain('hunter2xyz')
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

describe('guessCommand', () => {
  const known = {
    commands: ['cert', 'cert:renew', 'passwd', 'user:add', 'user:remove'],
    topics: ['cert', 'user'],
  }

  it.each([
    [['user', 'remve', 'bob'], {commandWords: 2, suggestion: 'user:remove', topic: ['user']}],
    [['usr', 'add', 'carol'], {commandWords: 2, suggestion: 'user:add', topic: []}],
    [['passwdd', 'hunter2'], {commandWords: 1, suggestion: 'passwd', topic: []}],
    [['user', 'bob'], {commandWords: 2, topic: ['user']}],
    [['xyzzy', 'hunter2'], {commandWords: 1, topic: []}],
    [['cert', 'now'], {commandWords: 1, suggestion: 'cert', topic: ['cert']}],
  ])('reads %j as %j', (words, guess) => {
    expect(guessCommand(words, known)).toEqual(guess)
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

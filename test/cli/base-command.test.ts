import {Config} from '@oclif/core'
import {afterEach, describe, expect, it, vi} from 'vitest'

import {BaseCommand} from '../../src/cli/base-command.js'
import {ExitCode, HomeauthError} from '../../src/errors.js'
import {cliCommand, projectDir, runCli} from '../helpers/cli.js'
import {useTempDir} from '../helpers/temp.js'

class Failing extends BaseCommand<typeof Failing> {
  static enableJsonFlag = true
  static failure: Error = new Error('unset')

  async run(): Promise<void> {
    throw Failing.failure
  }
}

async function exitCodeOf(
  argv: string[],
  failure: Error,
): Promise<{exit: number | undefined; stderr: string; stdout: string}> {
  Failing.failure = failure
  // oclif writes through the global console, the command's own output straight to process.stderr.
  const stderr = vi.spyOn(console, 'error').mockImplementation(() => {})
  const stderrWrite = vi.spyOn(process.stderr, 'write').mockImplementation(() => true)
  const stdout = vi.spyOn(console, 'log').mockImplementation(() => {})
  try {
    await Failing.run(argv, await Config.load(projectDir))
    return {exit: 0, stderr: '', stdout: ''}
  } catch (error) {
    const written = [...stderrWrite.mock.calls, ...stderr.mock.calls]
      .map((call) => String(call[0]))
      .join('\n')
    return {
      exit: (error as {oclif?: {exit?: number}}).oclif?.exit,
      stderr: written,
      stdout: stdout.mock.calls.map((call) => String(call[0])).join(''),
    }
  }
}

afterEach(() => {
  vi.restoreAllMocks()
  delete process.env.DEBUG
})

describe('BaseCommand error handling', () => {
  it('exits 1 for a bug, with one line and no stack trace unless DEBUG is set', async () => {
    const quiet = await exitCodeOf([], new Error('something broke'))
    expect(quiet.exit).toBe(ExitCode.unexpected)
    expect(quiet.stderr).toContain('Error: Unexpected failure: something broke')
    expect(quiet.stderr).toContain('DEBUG=1')
    expect(quiet.stderr).not.toMatch(/\n\s+at /)
    process.env.DEBUG = '1'
    const debug = await exitCodeOf([], new Error('something broke'))
    expect(debug.stderr).toMatch(/\n\s+at /)
  })

  it('exits with the table’s code for a domain error, in --json mode too', async () => {
    const failure = new HomeauthError('No answer.', {exitCode: ExitCode.timedOut, suggestions: ['Wait.']})
    expect((await exitCodeOf([], failure)).exit).toBe(ExitCode.timedOut)
    const json = await exitCodeOf(['--json'], failure)
    expect(json.exit).toBe(ExitCode.timedOut)
    expect(JSON.parse(json.stdout)).toEqual({error: {code: 7, message: 'No answer.', suggestions: ['Wait.']}})
  })
})

describe('--json failures from the command line', () => {
  const tempDir = useTempDir()

  const parseErrors: [string, string, string[], RegExp][] = [
    ['an unknown flag', 'status', ['--bogus'], /Nonexistent flag: --bogus/],
    ['an unexpected argument', 'status', ['extra'], /Unexpected argument: extra/],
    [
      '-p together with --password-stdin',
      'fetch-secret',
      ['-p', 'x', '--password-stdin'],
      /cannot also be provided/,
    ],
    ['a flag without its value', 'fetch-secret', ['--url'], /Flag --url expects a value/],
    ['an unknown flag', 'cert', ['--san', 'pi.local'], /Nonexistent flag: --san/],
    ['a bad integer', 'init', ['--port', 'abc'], /Expected an integer but received: abc/],
    ['an integer out of range', 'init', ['--port', '0'], /greater than or equal to 1/],
  ]

  it.each(parseErrors)(
    'prints one JSON error and exits 2 for %s (%s)',
    async (_what, command, args, message) => {
      const result = await runCli([...command.split(' '), '--json', '--config-dir', tempDir(), ...args])
      expect(result.code).toBe(ExitCode.usage)
      const json = JSON.parse(result.stdout)
      expect(Object.keys(json)).toEqual(['error'])
      expect(json.error).toMatchObject({code: ExitCode.usage, message: expect.stringMatching(message)})
      expect(json.error.suggestions).toEqual([`Run: ${cliCommand} ${command} --help`])
      expect(result.stderr).toBe('')
    },
  )

  it('keeps oclif’s text and exit 2 for a parse error without --json', async () => {
    const result = await runCli(['status', '--bogus', '--config-dir', tempDir()])
    expect(result.code).toBe(ExitCode.usage)
    expect(result.stdout).toBe('')
    expect(result.stderr).toContain('Nonexistent flag: --bogus')
  })

  it('prints one JSON error with the table’s code for a domain failure', async () => {
    const result = await runCli(['cert', '--json', '--config-dir', tempDir()])
    expect(result.code).toBe(ExitCode.invalidSetup)
    expect(JSON.parse(result.stdout)).toMatchObject({error: {code: ExitCode.invalidSetup}})
    expect(result.stderr).toBe('')
  })
})

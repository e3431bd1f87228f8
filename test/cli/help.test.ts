import {Config} from '@oclif/core'
import {describe, expect, it} from 'vitest'

import {projectDir, runCli} from '../helpers/cli.js'

const config = await Config.load({root: projectDir})
/** homeauth's own commands (not the help and autocomplete plugins'), whatever commands exist. */
const ownCommands = config.commands.filter((command) => command.pluginName === config.pjson.name)

describe('-h and -v, as people type them', () => {
  it.each([[[]], [['cert', 'renew']], [['serve']]])('%j -h prints the same help as --help', async (args) => {
    const [short, long] = await Promise.all([runCli([...args, '-h']), runCli([...args, '--help'])])
    expect(short.code).toBe(0)
    expect(short.stdout).toContain('USAGE')
    expect(short.stdout).toBe(long.stdout)
  })

  it('-v prints the version, as --version does', async () => {
    const [short, long] = await Promise.all([runCli(['-v']), runCli(['--version'])])
    expect(short.code).toBe(0)
    expect(short.stdout).toMatch(/^homeauth\/\d+\.\d+\.\d+ /)
    expect(short.stdout).toBe(long.stdout)
  })

  it("init's --port names the default a re-run really takes: the current port, else 8443", async () => {
    const {stdout} = await runCli(['init', '--help'])
    expect(stdout.replace(/\s+/g, ' ')).toContain(
      '--port=<value> Port the server listens on. [default: the current one on a re-run, else 8443]',
    )
    expect(stdout).not.toContain('[default: 8443]')
  })

  it('no command uses -h or -v for a flag of its own', () => {
    expect(ownCommands.length).toBeGreaterThan(0)
    const taken = config.commands.flatMap((command) =>
      Object.values(command.flags)
        .filter((flag) => flag.char === 'h' || flag.char === 'v')
        .map((flag) => `${command.id} -${flag.char}`),
    )
    expect(taken).toEqual([])
  })
})

describe.each(ownCommands.map((command) => [command.id.replaceAll(':', ' '), command] as const))(
  'help of %s',
  (_name, command) => {
    const examples = (command.examples ?? []).map((example) =>
      typeof example === 'string' ? example : example.command,
    )

    it('has a one-line summary and a description', () => {
      expect(command.summary?.trim()).toMatch(/^[^\n]+$/)
      expect(command.description?.trim()).toBeTruthy()
    })

    it('has at least two examples with long flags, and none with a short flag', () => {
      expect(examples.filter((example) => /\s--[a-z]/.test(example)).length).toBeGreaterThanOrEqual(2)
      for (const example of examples) expect(example).not.toMatch(/(^|\s)-[A-Za-z](\s|=|$)/)
    })
  },
)

import {spawnSync} from 'node:child_process'
import {readFileSync} from 'node:fs'
import path from 'node:path'
import {stripVTControlCharacters} from 'node:util'

import {describe, expect, it} from 'vitest'

import {runCli} from '../helpers/cli.js'
import {useTempDir} from '../helpers/temp.js'

const tempDir = useTempDir()
const zshMissing = spawnSync('zsh', ['--version']).error !== undefined

/** HOME and the XDG cache in a temp dir: the completion cache is written under `<cache>/homeauth/autocomplete`. */
function homeEnv(home: string) {
  return {HOME: home, XDG_CACHE_HOME: path.join(home, '.cache'), CI: 'true'}
}

/**
 * What bash offers for `line` (the cursor at its end): the setup line `autocomplete script bash`
 * prints is evaluated, then the completion function it registered is called as bash would.
 */
function bashCompletions(setup: string, home: string, line: string): string[] {
  const script = `
    eval "$SETUP"
    read -ra COMP_WORDS <<< "$LINE"
    [[ "$LINE" == *" " ]] && COMP_WORDS+=("")
    COMP_CWORD=$(( \${#COMP_WORDS[@]} - 1 ))
    _homeauth_autocomplete
    printf '%s\\n' "\${COMPREPLY[@]}"`
  const result = spawnSync('bash', ['-c', script], {
    env: {PATH: process.env.PATH, HOME: home, SETUP: setup, LINE: line},
    encoding: 'utf8',
  })
  expect(result.stderr).toBe('')
  return [...new Set(result.stdout.split('\n').filter(Boolean))].sort()
}

describe('shell completion', () => {
  it('completes commands, subcommands and flags in bash', async () => {
    const home = tempDir()
    const instructions = await runCli(['autocomplete', 'bash'], {env: homeEnv(home)})
    expect(instructions.code).toBe(0)
    expect(instructions.stdout).toContain('homeauth autocomplete script bash')

    const script = await runCli(['autocomplete', 'script', 'bash'], {env: homeEnv(home)})
    expect(script.code).toBe(0)
    expect(script.stdout).toContain(path.join(home, '.cache', 'homeauth', 'autocomplete', 'bash_setup'))

    const complete = (line: string) => bashCompletions(script.stdout, home, line)
    expect(complete('homeauth cert r')).toEqual(['renew'])
    expect(complete('homeauth cert ')).toEqual(['export', 'renew'])
    expect(complete('homeauth se')).toEqual(['serve', 'service', 'settings'])
    expect(complete('homeauth fetch-secret --pass')).toEqual(['--password', '--password-stdin'])
  })

  it('writes a zsh completion function with the subcommands and their summaries', async () => {
    const home = tempDir()
    const {code, stdout} = await runCli(['autocomplete', 'zsh'], {env: homeEnv(home)})
    expect(code).toBe(0)
    expect(stdout).toContain('homeauth autocomplete script zsh')

    const functions = path.join(home, '.cache', 'homeauth', 'autocomplete', 'functions', 'zsh', '_homeauth')
    const zsh = readFileSync(functions, 'utf8')
    expect(zsh).toMatch(/^#compdef homeauth/)
    expect(zsh).toContain('"renew[Make a new server certificate from the same CA.]"')
    expect(zsh).toContain('"serve[Start the protected HTTPS server.]"')
  })

  it.skipIf(zshMissing)('completes `homeauth cert r<Tab>` in an interactive zsh', async () => {
    const home = tempDir()
    expect((await runCli(['autocomplete', '--refresh-cache'], {env: homeEnv(home)})).code).toBe(0)
    const functions = path.join(home, '.cache', 'homeauth', 'autocomplete', 'functions', 'zsh')
    // zsh completes only in its line editor: drive an interactive zsh in a pseudo terminal (zpty),
    // type the line once the prompt is on the screen, a Tab, and Enter once the completion is;
    // a homeauth function there prints the words it was run with. (Each marker is typed split in
    // two, so that the echo of the typing never matches it.)
    const script = `
      zmodload zsh/zpty
      zpty shell 'zsh -f -i'
      zpty -w shell 'homeauth() { print "RAN[$*]" }; fpath=("$FUNCTIONS" $fpath); autoload -Uz compinit; compinit -u -D; PS1="PR""OMPT> "; print RE""ADY'
      zpty -r -m shell _ '*READY*PROMPT> *'
      zpty -w -n shell $'homeauth cert r\t'
      zpty -r -m shell _ '*enew*'
      zpty -w -n shell $'\n'
      zpty -r -m shell output '*RAN\\[cert*\\]*'
      print -r -- "$output"
      zpty -d shell`
    const result = spawnSync('zsh', ['-f', '-c', script], {
      env: {PATH: process.env.PATH, HOME: home, FUNCTIONS: functions, TERM: 'xterm'},
      encoding: 'utf8',
      timeout: 20_000,
    })
    expect(stripVTControlCharacters(result.stdout)).toContain('RAN[cert renew]')
  })
})

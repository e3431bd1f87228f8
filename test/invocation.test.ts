import {describe, expect, it} from 'vitest'

import {
  commandNameOf,
  homeauthCommand,
  invokedAs,
  publicHomeauthCommand,
  shellQuoted,
} from '../src/invocation.js'

const path = '/usr/local/sbin:/usr/local/bin:/usr/bin:/bin'

describe('commandNameOf', () => {
  it('names npx homeauth for the link npx runs from its cache, or from the project', () => {
    const cached = '/root/.npm/_npx/792bb02e5ff15e85/node_modules/.bin/homeauth'
    expect(commandNameOf({script: cached, env: {npm_command: 'exec', PATH: path}, cwd: '/home/jeff'})).toBe(
      'npx homeauth',
    )
    const project = '/home/jeff/site/node_modules/.bin/homeauth'
    const env = {npm_command: 'run-script', PATH: `/home/jeff/site/node_modules/.bin:${path}`}
    expect(commandNameOf({script: project, env, cwd: '/home/jeff/site'})).toBe('npx homeauth')
  })

  it('names homeauth for a global install that an npx up the process tree left npm_command=exec for', () => {
    const env = {npm_command: 'exec', npm_lifecycle_event: 'npx', PATH: path}
    expect(commandNameOf({script: '/usr/local/bin/homeauth', env, cwd: '/'})).toBe('homeauth')
  })

  it('names homeauth for the bin link of a global install on PATH', () => {
    expect(commandNameOf({script: '/usr/local/bin/homeauth', env: {PATH: path}, cwd: '/tmp'})).toBe(
      'homeauth',
    )
    const prefix = '/home/jeff/.local/bin/homeauth'
    expect(commandNameOf({script: prefix, env: {PATH: `/home/jeff/.local/bin/:${path}`}, cwd: '/'})).toBe(
      'homeauth',
    )
  })

  it('names a bin link outside PATH by its path', () => {
    const script = '/tmp/prefix/bin/homeauth'
    expect(commandNameOf({script, env: {PATH: path}, cwd: '/home/jeff'})).toBe(script)
  })

  it('names a script by its path from the working directory, or absolute outside it', () => {
    const script = '/home/jeff/homeauth/bin/run.js'
    expect(commandNameOf({script, env: {PATH: path}, cwd: '/home/jeff/homeauth'})).toBe('./bin/run.js')
    expect(commandNameOf({script, env: {PATH: path}, cwd: '/home/jeff'})).toBe('./homeauth/bin/run.js')
    expect(commandNameOf({script, env: {PATH: path}, cwd: '/home/jeff/homeauth/src'})).toBe(script)
    expect(commandNameOf({script, env: {PATH: path}, cwd: '/home/jeff/..homeauth'})).toBe(script)
  })

  it('names a script by its path even when an npx up the process tree left npm_command set', () => {
    const script = '/home/jeff/homeauth/bin/run.js'
    expect(commandNameOf({script, env: {npm_command: 'exec'}, cwd: '/'})).toBe(script)
  })

  it('quotes a path the shell would split or expand', () => {
    const script = "/home/jeff/my homeauth/it's/bin/run.js"
    expect(commandNameOf({script, env: {}, cwd: '/'})).toBe(`'/home/jeff/my homeauth/it'\\''s/bin/run.js'`)
  })

  it('keeps the name a detached parent handed down', () => {
    const env = {HOMEAUTH_INVOKED_AS: 'npx homeauth', PATH: path}
    expect(commandNameOf({script: '/home/jeff/homeauth/bin/run.js', env, cwd: '/'})).toBe('npx homeauth')
  })

  it('names homeauth when node ran no script (node -e, a REPL)', () => {
    expect(commandNameOf({script: undefined, env: {}, cwd: '/'})).toBe('homeauth')
  })
})

describe('publicHomeauthCommand', () => {
  it('never puts the path of the script this process runs in a page for the network', () => {
    expect(invokedAs()).toContain('/')
    expect(publicHomeauthCommand('passwd')).toBe('homeauth passwd')
  })
})

describe('shellQuoted and homeauthCommand', () => {
  it('quotes a word only when a POSIX shell would split or expand it', () => {
    expect(shellQuoted('/home/jeff/.config/homeauth')).toBe('/home/jeff/.config/homeauth')
    expect(shellQuoted("/srv/Jeff's home auth")).toBe(`'/srv/Jeff'\\''s home auth'`)
    for (const word of ['~/x', '$HOME', 'a*', '[::1]', '', 'a;b', 'Zoë'])
      expect(shellQuoted(word)).toBe(`'${word}'`)
  })

  it('adds the config directory it is given, quoted, or none with false', () => {
    expect(homeauthCommand('passwd', '/srv/my homeauth')).toBe(
      `${invokedAs()} passwd --config-dir '/srv/my homeauth'`,
    )
    expect(homeauthCommand('status --help', false)).toBe(`${invokedAs()} status --help`)
  })
})

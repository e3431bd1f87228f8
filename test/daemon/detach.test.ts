import path from 'node:path'

import {describe, expect, it} from 'vitest'

import {commandNameOf, invokedAs} from '../../src/invocation.js'
import {backgroundCommand} from '../../src/daemon/detach.js'
import type {ServeSettings} from '../../src/config/serve-settings.js'

const user = {username: 'JeffLynne', password: 'Turn to Stone'}

function settings(overrides: Partial<ServeSettings> = {}): ServeSettings {
  return {
    configDir: 'config',
    extraHosts: [],
    realm: 'homeauth',
    throttle: {maxFailures: 5, windowMs: 900_000, lockoutMs: 60_000},
    trustProxy: [],
    ...overrides,
  }
}

describe('backgroundCommand', () => {
  it('puts every setting on the command line, with paths made absolute and the log file added', () => {
    const {args} = backgroundCommand(
      settings({
        port: 9443,
        host: '127.0.0.1',
        tlsFiles: {cert: 'my.pem', key: 'my.key'},
        extraHosts: ['pi.home.arpa', '192.168.1.20'],
        secretFile: 'message.txt',
        realm: 'Home',
        frameAncestors: ['https://dashboard.local:8123', "'self'"],
        throttle: {maxFailures: 3, windowMs: 600_000, lockoutMs: 30_000},
        trustProxy: ['127.0.0.1', '10.0.0.0/8'],
      }),
      undefined,
      {},
    )
    expect(args).toEqual([
      'serve',
      ...['--config-dir', path.resolve('config')],
      ...['--log-file', path.resolve('config', 'serve.log')],
      ...['--port', '9443'],
      ...['--host', '127.0.0.1'],
      ...['--cert', path.resolve('my.pem')],
      ...['--key', path.resolve('my.key')],
      ...['--san', 'pi.home.arpa', '--san', '192.168.1.20'],
      ...['--secret-file', path.resolve('message.txt')],
      ...['--realm', 'Home'],
      ...['--frame-ancestors', 'https://dashboard.local:8123', '--frame-ancestors', "'self'"],
      ...['--max-failures', '3'],
      ...['--failure-window', '600'],
      ...['--lockout', '30'],
      ...['--trust-proxy', '127.0.0.1', '--trust-proxy', '10.0.0.0/8'],
    ])
  })

  it('hands the password over stdin, never in the arguments or HOMEAUTH_PASSWORD', () => {
    const command = backgroundCommand(settings(), user, {HOMEAUTH_PASSWORD: user.password, PATH: '/bin'})
    expect(command.args).toEqual(expect.arrayContaining(['--username', user.username, '--password-stdin']))
    expect(command.args).not.toContain(user.password)
    expect(command.password).toBe(user.password)
    expect(command.env).toEqual({PATH: '/bin', HOMEAUTH_INVOKED_AS: invokedAs()})
  })

  it('leaves the credentials to the stored hash when none were given at start-up', () => {
    const command = backgroundCommand(settings(), undefined, {})
    expect(command.args).not.toContain('--username')
    expect(command.args).not.toContain('--password-stdin')
    expect(command.password).toBeUndefined()
  })

  it('passes a --secret in the environment only, and any other secret not at all', () => {
    const given = backgroundCommand(settings({secret: 'Evil Woman'}), undefined, {})
    expect(given.env).toEqual({HOMEAUTH_SECRET: 'Evil Woman', HOMEAUTH_INVOKED_AS: invokedAs()})
    expect(given.args).not.toContain('Evil Woman')
    const inherited = backgroundCommand(settings(), undefined, {HOMEAUTH_SECRET: 'Telephone Line'})
    expect(inherited.env).toEqual({HOMEAUTH_SECRET: 'Telephone Line', HOMEAUTH_INVOKED_AS: invokedAs()})
  })

  it('hands down the command name this process was started as, for the hints of the child', () => {
    const command = backgroundCommand(settings(), undefined, {HOMEAUTH_INVOKED_AS: 'something else'})
    expect(command.env.HOMEAUTH_INVOKED_AS).toBe(invokedAs())
    expect(commandNameOf({script: '/opt/other/run.js', env: command.env, cwd: '/'})).toBe(invokedAs())
  })
})

import path from 'node:path'

import {describe, expect, it} from 'vitest'

import Serve from '../../src/commands/serve.js'
import {commandNameOf, invokedAs} from '../../src/invocation.js'
import {backgroundCommand, type ServeCommandLine} from '../../src/daemon/detach.js'

const user = {username: 'JeffLynne', password: 'Turn to Stone'}
const settings = {configDir: 'config'}

/** Serve's own flag definitions with `values` as oclif would have parsed them. */
function commandLine(values: Record<string, unknown> = {}): ServeCommandLine {
  return {definitions: Serve.flags, values}
}

describe('backgroundCommand', () => {
  it('puts every setting on the command line, with paths made absolute and the log file added', () => {
    const {args} = backgroundCommand(
      settings,
      commandLine({
        port: 9443,
        host: '127.0.0.1',
        cert: 'my.pem',
        key: 'my.key',
        san: ['pi.home.arpa', '192.168.1.20'],
        'secret-file': 'message.txt',
        realm: 'Home',
        'frame-ancestors': ['https://dashboard.local:8123', "'self'"],
        'max-failures': 3,
        'failure-window': 600,
        lockout: 30,
        'trust-proxy': ['127.0.0.1', '10.0.0.0/8'],
        qr: true,
        detach: true,
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

  it('hands down every flag of serve but the credentials and what only the starting process does', () => {
    const credentialFlags = ['username', 'password', 'password-stdin', 'secret']
    const parentOnly = ['detach', 'qr']
    const value = '127.0.0.1:9091'
    const values = Object.fromEntries(
      Object.entries(Serve.flags).map(([name, flag]) => [
        name,
        flag.type === 'boolean' ? true : flag.multiple ? [value] : value,
      ]),
    )
    const {args} = backgroundCommand(settings, commandLine(values), undefined, {})
    const handedDown = Object.keys(Serve.flags).filter(
      (name) => ![...credentialFlags, ...parentOnly].includes(name),
    )
    expect(handedDown).toContain('port')
    for (const name of handedDown) expect(args).toContain(`--${name}`)
    for (const name of [...credentialFlags, ...parentOnly]) expect(args).not.toContain(`--${name}`)
    expect(args.filter((arg) => arg === '--log-file')).toHaveLength(1)
  })

  it('hands the password over stdin, never in the arguments or HOMEAUTH_PASSWORD', () => {
    const command = backgroundCommand(
      settings,
      commandLine({username: user.username, password: user.password}),
      user,
      {HOMEAUTH_PASSWORD: user.password, PATH: '/bin'},
    )
    expect(command.args).toEqual(expect.arrayContaining(['--username', user.username, '--password-stdin']))
    expect(command.args).not.toContain(user.password)
    expect(command.password).toBe(user.password)
    expect(command.env).toEqual({PATH: '/bin', HOMEAUTH_INVOKED_AS: invokedAs()})
  })

  it('leaves the credentials to the stored hash when none were given at start-up', () => {
    const command = backgroundCommand(settings, commandLine(), undefined, {})
    expect(command.args).not.toContain('--username')
    expect(command.args).not.toContain('--password-stdin')
    expect(command.password).toBeUndefined()
  })

  it('passes a --secret in the environment only, and any other secret not at all', () => {
    const given = backgroundCommand(
      {...settings, secret: 'Evil Woman'},
      commandLine({secret: 'Evil Woman'}),
      undefined,
      {},
    )
    expect(given.env).toEqual({HOMEAUTH_SECRET: 'Evil Woman', HOMEAUTH_INVOKED_AS: invokedAs()})
    expect(given.args).not.toContain('Evil Woman')
    const inherited = backgroundCommand(settings, commandLine(), undefined, {
      HOMEAUTH_SECRET: 'Telephone Line',
    })
    expect(inherited.env).toEqual({HOMEAUTH_SECRET: 'Telephone Line', HOMEAUTH_INVOKED_AS: invokedAs()})
  })

  it('hands down the command name this process was started as, for the hints of the child', () => {
    const command = backgroundCommand(settings, commandLine(), undefined, {
      HOMEAUTH_INVOKED_AS: 'something else',
    })
    expect(command.env.HOMEAUTH_INVOKED_AS).toBe(invokedAs())
    expect(commandNameOf({script: '/opt/other/run.js', env: command.env, cwd: '/'})).toBe(invokedAs())
  })
})

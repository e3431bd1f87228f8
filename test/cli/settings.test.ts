import {readFileSync, readlinkSync, writeFileSync} from 'node:fs'
import path from 'node:path'

import {describe, expect, it} from 'vitest'

import Serve from '../../src/commands/serve.js'
import Settings from '../../src/commands/settings/index.js'
import SettingsSet from '../../src/commands/settings/set.js'
import {storedSettingNames} from '../../src/config/stored-settings.js'
import {ExitCode} from '../../src/errors.js'
import {cliCommand, projectDir, runCli, useCli} from '../helpers/cli.js'
import {request} from '../helpers/https.js'
import {owner, useInitialisedConfig} from '../helpers/service.js'
import {useTempDir} from '../helpers/temp.js'

const configCopy = useInitialisedConfig()
const startCli = useCli()
const tempDir = useTempDir()

const settingsOf = (configDir: string) =>
  (JSON.parse(readFileSync(path.join(configDir, 'config.json'), 'utf8')) as {serve: Record<string, unknown>})
    .serve

/** config.json's text and the generation it links to: what a refused change must leave as it was. */
const snapshot = (configDir: string) => ({
  text: readFileSync(path.join(configDir, 'config.json'), 'utf8'),
  generation: readlinkSync(path.join(configDir, '.data')),
})

const set = (configDir: string, ...args: string[]) =>
  runCli(['settings', 'set', '--config-dir', configDir, ...args])

describe('homeauth settings', () => {
  it('shows the settings init and settings set stored, and the defaults of the others, in text and JSON', async () => {
    const configDir = configCopy()
    const text = await runCli(['settings', '--config-dir', configDir])
    expect(text.code, text.stderr).toBe(0)
    expect(text.stdout).toMatch(/^ {2}port +0$/m)
    expect(text.stdout).toMatch(/^ {2}host +127\.0\.0\.1$/m)
    expect(text.stdout).toMatch(/^ {2}realm +homeauth \(default\)$/m)
    expect(text.stdout).toMatch(/^ {2}auth-listen +none \(\/auth on the HTTPS port only\)$/m)
    const json = await runCli(['settings', '--config-dir', configDir, '--json'])
    expect(JSON.parse(json.stdout)).toEqual({
      configFile: path.join(configDir, 'config.json'),
      stored: {port: 0, host: '127.0.0.1'},
      effective: {
        port: 0,
        host: '127.0.0.1',
        san: null,
        cert: null,
        key: null,
        'secret-file': null,
        realm: 'homeauth',
        'frame-ancestors': null,
        'max-failures': 5,
        'failure-window': 900,
        lockout: 60,
        'trust-proxy': null,
        'auth-listen': null,
      },
    })
  })

  it('exits 8 before init, naming it', async () => {
    const result = await runCli(['settings', 'set', '--config-dir', tempDir(), '--port', '9443'])
    expect(result.code).toBe(ExitCode.invalidSetup)
    expect(result.stderr).toContain(`Run: ${cliCommand} init`)
  })

  it('set stores each value in the serve section, paths made absolute, a list replacing the stored one', async () => {
    const configDir = configCopy()
    const relative = (file: string) => path.relative(projectDir, path.join(configDir, file))
    writeFileSync(path.join(configDir, 'message.txt'), 'From a file\n', {mode: 0o600})
    const first = await set(configDir, '--trust-proxy', '127.0.0.1', '--trust-proxy', '192.168.1.0/24')
    expect(first.code, first.stderr).toBe(0)
    const result = await set(
      configDir,
      ...['--auth-listen', '127.0.0.1:9092', '--trust-proxy', '10.0.0.2', '--port', '9443'],
      ...['--realm', 'Home', '--max-failures', '10', '--san', 'NAS.home.arpa'],
      ...['--cert', relative('server.pem'), '--key', relative('server-key.pem')],
      ...['--secret-file', relative('message.txt'), '--frame-ancestors', "'self'"],
    )
    expect(result.code, result.stderr).toBe(0)
    expect(result.stderr).toContain(
      `No server is running; the next ${cliCommand} serve --config-dir ${configDir} uses them.`,
    )
    expect(settingsOf(configDir)).toEqual({
      port: 9443,
      host: '127.0.0.1',
      'auth-listen': '127.0.0.1:9092',
      'trust-proxy': ['10.0.0.2'],
      realm: 'Home',
      'max-failures': 10,
      san: ['nas.home.arpa'],
      cert: path.join(configDir, 'server.pem'),
      key: path.join(configDir, 'server-key.pem'),
      'secret-file': path.join(configDir, 'message.txt'),
      'frame-ancestors': ["'self'"],
    })
    expect(result.stdout).toMatch(/^ {2}auth-listen +127\.0\.0\.1:9092$/m)
  })

  const badValues: [string, string[], number][] = [
    ['a port out of range', ['--port', '70000'], ExitCode.usage],
    ['an auth listener off loopback', ['--auth-listen', '192.168.1.5:9091'], ExitCode.usage],
    ['a proxy range that trusts everyone', ['--trust-proxy', '0.0.0.0/0'], ExitCode.usage],
    ['a proxy given by name', ['--trust-proxy', 'proxy.home.arpa'], ExitCode.usage],
    ['a realm with a quote', ['--realm', 'Home "sweet" home'], ExitCode.usage],
    ['a host that is no host', ['--host', 'not a host'], ExitCode.usage],
    ['a frame ancestor that is no origin', ['--frame-ancestors', 'javascript:alert(1)'], ExitCode.usage],
    ['no failures allowed', ['--max-failures', '0'], ExitCode.usage],
    ['a certificate without its key', ['--cert', '/etc/ssl/home.pem'], ExitCode.usage],
    ['no setting at all', [], ExitCode.usage],
    ['a secret file that is missing', ['--secret-file', '/nonexistent/message.txt'], ExitCode.invalidSetup],
    [
      'a certificate file that is missing',
      ['--cert', '/nonexistent.pem', '--key', '/nonexistent-key.pem'],
      8,
    ],
  ]

  for (const [what, args, code] of badValues) {
    it(`set refuses ${what} (exit ${code}) in one line, leaving config.json as it was`, async () => {
      const configDir = configCopy()
      const before = snapshot(configDir)
      // A good value given with the bad one is not stored either.
      const result = await set(configDir, ...(args.length > 0 ? ['--port', '9443'] : []), ...args)
      expect(result.code, result.stderr).toBe(code)
      if (code === ExitCode.invalidSetup) expect(result.stderr).toMatch(/^Error: [^\n]+\n/)
      expect(snapshot(configDir)).toEqual(before)
    })
  }

  it('set refuses a certificate and key that do not belong together (exit 8), storing nothing', async () => {
    const configDir = configCopy()
    const before = snapshot(configDir)
    const result = await set(
      configDir,
      ...['--cert', path.join(configDir, 'ca.pem'), '--key', path.join(configDir, 'server-key.pem')],
    )
    expect(result.code).toBe(ExitCode.invalidSetup)
    expect(snapshot(configDir)).toEqual(before)
  })

  it('reset removes the named settings (key goes with cert), --all every one; an unknown name is refused', async () => {
    const configDir = configCopy()
    const cert = [
      '--cert',
      path.join(configDir, 'server.pem'),
      '--key',
      path.join(configDir, 'server-key.pem'),
    ]
    expect((await set(configDir, '--realm', 'Home', '--trust-proxy', '127.0.0.1', ...cert)).code).toBe(0)
    const reset = await runCli(['settings', 'reset', '--config-dir', configDir, 'realm', 'cert'])
    expect(reset.code, reset.stderr).toBe(0)
    expect(settingsOf(configDir)).toEqual({port: 0, host: '127.0.0.1', 'trust-proxy': ['127.0.0.1']})

    const before = snapshot(configDir)
    const unknown = await runCli(['settings', 'reset', '--config-dir', configDir, 'trust_proxy'])
    expect(unknown.code).toBe(ExitCode.usage)
    expect(unknown.stderr).toContain('"trust_proxy" is not a setting')
    for (const args of [[], ['--all', 'port']]) {
      expect((await runCli(['settings', 'reset', '--config-dir', configDir, ...args])).code).toBe(2)
    }
    expect(snapshot(configDir)).toEqual(before)

    const all = await runCli(['settings', 'reset', '--config-dir', configDir, '--all', '--json'])
    expect(all.code).toBe(0)
    expect(JSON.parse(all.stdout)).toMatchObject({stored: {}, effective: {port: 8443, host: null}})
    expect(settingsOf(configDir)).toEqual({})
    // Seven commands, each a Node start: more than the default 30 s on a loaded machine.
  }, 90_000)

  it('refuses a hand-edited bad value (exit 8) naming the file and key, and settings reset mends it', async () => {
    const configDir = configCopy()
    const file = path.join(configDir, 'config.json')
    const config = JSON.parse(readFileSync(file, 'utf8')) as {serve: object}
    writeFileSync(file, JSON.stringify({...config, serve: {...config.serve, 'auth-listen': '0.0.0.0:9091'}}))
    const before = snapshot(configDir)
    for (const args of [['settings'], ['serve', '-u', 'a', '-p', 'b']]) {
      const result = await runCli([...args, '--config-dir', configDir])
      expect(result.code).toBe(ExitCode.invalidSetup)
      expect(result.stderr).toContain(
        `Error: ${file}: "serve.auth-listen": --auth-listen 0.0.0.0:9091 is not a`,
      )
      expect(result.stderr).toContain(`${cliCommand} settings reset auth-listen`)
    }
    expect(snapshot(configDir)).toEqual(before)
    const mended = await runCli(['settings', 'reset', '--config-dir', configDir, 'auth-listen'])
    expect(mended.code, mended.stderr).toBe(0)
    expect(settingsOf(configDir)).toEqual({port: 0, host: '127.0.0.1'})
    // Four commands, each a Node start.
  }, 60_000)

  it('reads an older config.json without a serve section: serve listens on its host and port, the next write is version 3', async () => {
    const configDir = configCopy()
    const file = path.join(configDir, 'config.json')
    const {users, secret} = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>
    const versionTwo = {version: 2, users, secret, port: 0, host: '127.0.0.1', sans: ['nas.home.arpa']}
    writeFileSync(file, JSON.stringify(versionTwo))
    const shown = await runCli(['settings', '--config-dir', configDir, '--json'])
    expect(JSON.parse(shown.stdout).stored).toEqual({port: 0, host: '127.0.0.1', san: ['nas.home.arpa']})
    const server = startCli(['serve', '--config-dir', configDir, '--no-qr'])
    const [url] = await server.waitForBanner()
    expect(
      (
        await request(`${url}api/secret`, {
          ca: readFileSync(path.join(configDir, 'ca.pem'), 'utf8'),
          auth: owner,
        })
      ).status,
    ).toBe(200)
    server.child.kill('SIGTERM')
    await server.exited
    expect((await set(configDir, '--realm', 'Home')).code).toBe(0)
    expect(JSON.parse(readFileSync(file, 'utf8'))).toEqual({
      version: 3,
      users,
      secret,
      serve: {port: 0, host: '127.0.0.1', san: ['nas.home.arpa'], realm: 'Home'},
    })
    // A server and three commands, each a Node start.
  }, 60_000)

  it('serve runs with the stored setting; a flag overrides it for that run only', async () => {
    const configDir = configCopy()
    expect((await set(configDir, '--realm', 'Stored')).code).toBe(0)
    const realmOf = async (...flags: string[]) => {
      const server = startCli(['serve', '--config-dir', configDir, '--no-qr', ...flags])
      const [url] = await server.waitForBanner()
      const response = await request(`${url}api/secret`, {
        ca: readFileSync(path.join(configDir, 'ca.pem'), 'utf8'),
      })
      server.child.kill('SIGTERM')
      await server.exited
      return response.headers['www-authenticate']
    }
    expect(await realmOf('--realm', 'Flag')).toBe('Basic realm="Flag", charset="UTF-8"')
    expect(settingsOf(configDir).realm).toBe('Stored')
    expect(await realmOf()).toBe('Basic realm="Stored", charset="UTF-8"')
    // Two servers and a command, each a Node start.
  }, 60_000)

  it('set tells that a running server keeps its settings until restarted, and how', async () => {
    const configDir = configCopy()
    const server = startCli(['serve', '--config-dir', configDir, '--no-qr'])
    await server.waitForBanner()
    const result = await set(configDir, '--trust-proxy', '127.0.0.1')
    expect(result.code).toBe(0)
    expect(result.stderr).toContain(
      `The running server (PID ${server.child.pid}) keeps the settings it started with; restart it to use these: Ctrl+C where it runs, then ${cliCommand} serve --config-dir ${configDir}`,
    )
  })
})

describe('the setting flags', () => {
  const oneRunFlags = ['username', 'password', 'password-stdin', 'secret', 'qr', 'detach', 'log-file']

  it('are the very definitions of serve’s flags; every other flag of serve is a choice for one run or a secret', () => {
    expect(Object.keys(SettingsSet.flags).sort()).toEqual([...storedSettingNames].sort())
    for (const name of storedSettingNames) {
      expect(SettingsSet.flags[name], name).toBe(Serve.flags[name])
      // No oclif default: a flag not given must leave the stored setting in force.
      expect(Serve.flags[name].default, name).toBeUndefined()
    }
    const others = Object.keys(Serve.flags).filter(
      (name) => !(storedSettingNames as readonly string[]).includes(name),
    )
    expect(others.sort()).toEqual([...oneRunFlags].sort())
    expect(Settings.enableJsonFlag).toBe(true)
  })
})

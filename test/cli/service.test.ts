import {spawn} from 'node:child_process'
import net from 'node:net'
import {
  chmodSync,
  chownSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  readFileSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs'
import path from 'node:path'

import {afterEach, describe, expect, it} from 'vitest'

import {ExitCode} from '../../src/errors.js'
import {isAlive} from '../../src/daemon/state.js'
import {CliProcess, cliCommand, projectDir, runCli, runJs, urlPattern, useCli} from '../helpers/cli.js'
import {request} from '../helpers/https.js'
import {initialisedForLoopback, useInitialisedConfig, owner, secret} from '../helpers/service.js'
import {useTempDir} from '../helpers/temp.js'

const tempDir = useTempDir()
const configCopy = useInitialisedConfig()
const startCli = useCli()
/** systemctl here talks to no manager (a container): the tests of that case need it so. */
const noSystemd = !existsSync('/run/systemd/system')

/** A HOME and XDG_CONFIG_HOME of its own, so the user unit lands in a temp dir. */
function userEnv(): Record<string, string> {
  const home = tempDir()
  return {HOME: home, XDG_CONFIG_HOME: path.join(home, 'config')}
}

const unitFileIn = (env: Record<string, string>) =>
  path.join(env.XDG_CONFIG_HOME!, 'systemd', 'user', 'homeauth.service')

/** A directory first on PATH with a `systemctl` that logs its arguments to `log` and succeeds. */
function fakeSystemctlPath(): {path: string; log: string} {
  const bin = tempDir()
  const log = path.join(bin, 'calls.log')
  writeFileSync(path.join(bin, 'systemctl'), `#!/bin/sh\necho "$*" >> '${log}'\n`, {mode: 0o755})
  return {path: `${bin}:${process.env.PATH}`, log}
}

/** The words of a unit's ExecStart= as systemd splits them: quotes, backslash escapes, $$ and %%. */
function execStartWords(unit: string): string[] {
  const line = /^ExecStart=(.*)$/m.exec(unit)![1]!
  return [...line.matchAll(/"((?:[^"\\]|\\.)*)"|(\S+)/g)].map((match) =>
    (match[1] === undefined ? match[2]! : match[1].replace(/\\(.)/g, '$1'))
      .replaceAll('$$', '$')
      .replaceAll('%%', '%'),
  )
}

describe('homeauth service install', () => {
  it('writes a user unit (0644) and prints the systemctl commands and the linger line', async () => {
    const configDir = configCopy()
    const env = userEnv()
    const result = await runCli(['service', 'install', '--config-dir', configDir], {env})
    expect(result.code, result.stderr).toBe(0)
    const unitFile = unitFileIn(env)
    expect(result.stdout).toContain(`Wrote ${unitFile}`)
    expect(result.stderr).toContain(
      '  systemctl --user daemon-reload\n  systemctl --user enable --now homeauth.service',
    )
    expect(result.stderr).toMatch(/loginctl enable-linger \S+/)
    expect(statSync(unitFile).mode & 0o777).toBe(0o644)
    const unit = readFileSync(unitFile, 'utf8')
    expect(execStartWords(unit)).toEqual([process.execPath, runJs, 'serve', '--config-dir', configDir])

    const again = await runCli(['service', 'install', '--config-dir', configDir], {env})
    expect(again.code).toBe(0)
    expect(again.stdout).toContain('is already this unit; left unchanged')
  })

  it('refuses to replace a unit written for another config directory unless --force', async () => {
    const env = userEnv()
    const first = configCopy()
    const second = configCopy()
    expect((await runCli(['service', 'install', '--config-dir', first], {env})).code).toBe(0)
    const refused = await runCli(['service', 'install', '--config-dir', second], {env})
    expect(refused.code).toBe(ExitCode.usage)
    expect(refused.stderr).toContain(`(for ${first})`)
    expect(refused.stderr).toContain(`${cliCommand} service install --force`)
    const forced = await runCli(['service', 'install', '--config-dir', second, '--force'], {env})
    expect(forced.code).toBe(0)
    expect(readFileSync(unitFileIn(env), 'utf8')).toContain(`--config-dir ${second}\n`)
  })

  it('--print shows the unit and writes nothing', async () => {
    const configDir = configCopy()
    const env = userEnv()
    const result = await runCli(['service', 'install', '--config-dir', configDir, '--print'], {env})
    expect(result.code).toBe(0)
    expect(result.stdout).toMatch(/^# Written by homeauth service install for /)
    expect(result.stdout).toContain('\n[Service]\n')
    expect(existsSync(env.XDG_CONFIG_HOME!)).toBe(false)
  })

  it('refuses (exit 9, no unit written) while a server started by serve runs on the directory, naming stop with its --config-dir', async () => {
    const configDir = configCopy()
    const env = userEnv()
    const server = startCli(['serve', '--config-dir', configDir, '--no-qr'])
    await server.waitForBanner()
    const refused = await runCli(['service', 'install', '--config-dir', configDir], {env})
    expect(refused.code).toBe(ExitCode.portUnavailable)
    expect(refused.stderr).toContain(`homeauth already runs on ${configDir} (PID ${server.child.pid})`)
    expect(refused.stderr).toContain(`Stop it first: ${cliCommand} stop --config-dir ${configDir}`)
    expect(existsSync(unitFileIn(env))).toBe(false)
    expect((await runCli(['service', 'install', '--config-dir', configDir, '--print'], {env})).code).toBe(0)
  })

  it('refuses a config directory without init, naming homeauth init (exit 8)', async () => {
    const env = userEnv()
    const result = await runCli(['service', 'install', '--config-dir', tempDir()], {env})
    expect(result.code).toBe(ExitCode.invalidSetup)
    expect(result.stderr).toContain(`Run: ${cliCommand} init`)
    expect(existsSync(env.XDG_CONFIG_HOME!)).toBe(false)
  })

  it('refuses to run from npx’s cache, telling to install homeauth first', async () => {
    const configDir = configCopy()
    // A homeauth as npx unpacks it: <npm cache>/_npx/<hash>/node_modules/homeauth.
    const cached = path.join(tempDir(), '.npm', '_npx', '6c3b1d2e', 'node_modules', 'homeauth')
    mkdirSync(path.join(cached, 'bin'), {recursive: true})
    copyFileSync(runJs, path.join(cached, 'bin', 'run.js'))
    for (const entry of ['package.json', 'dist', 'templates', 'node_modules']) {
      symlinkSync(path.join(projectDir, entry), path.join(cached, entry))
    }
    const cli = startCli(['service', 'install', '--config-dir', configDir], {
      command: [process.execPath, path.join(cached, 'bin', 'run.js')],
      env: userEnv(),
    })
    const result = await cli.exited
    expect(result.code).toBe(ExitCode.usage)
    expect(result.stderr).toContain("npx's cache")
    expect(result.stderr).toContain('npm install -g ./homeauth-*.tgz')
  })

  it.runIf(process.getuid?.() === 0)('--system refuses to run homeauth as root', async () => {
    const configDir = configCopy()
    for (const extra of [['--user-name', 'root'], []]) {
      const result = await runCli([
        'service',
        'install',
        '--system',
        '--print',
        '--config-dir',
        configDir,
        ...extra,
      ])
      expect(result.code).toBe(ExitCode.usage)
      expect(result.stderr).toContain('homeauth never runs as root')
    }
  })

  it.runIf(process.getuid?.() === 0)(
    'as root, --system prints a unit for a config directory another user owns, running as that user',
    async () => {
      const configDir = configCopy()
      chownSync(configDir, 65534, 65534)
      const result = await runCli(['service', 'install', '--system', '--print', '--config-dir', configDir])
      expect(result.code, result.stderr).toBe(0)
      expect(result.stdout).toMatch(/^User=nobody$/m)
      const asUser = await runCli(['service', 'install', '--print', '--config-dir', configDir])
      expect(asUser.code).toBe(ExitCode.invalidSetup)
      expect(asUser.stderr).toContain('belongs to another user')
    },
  )

  it('--user-name without --system is a usage error', async () => {
    const result = await runCli(['service', 'install', '--user-name', 'pi', '--print'], {env: userEnv()})
    expect(result.code).toBe(ExitCode.usage)
    expect(result.stderr).toContain('--system')
  })

  it.runIf(noSystemd)(
    '--now where systemd does not run: one clear error, exit 3, the unit file kept',
    async () => {
      const configDir = configCopy()
      const env = userEnv()
      const result = await runCli(['service', 'install', '--config-dir', configDir, '--now'], {env})
      expect(result.code).toBe(ExitCode.notRunning)
      const error = result.stderr.split('\n').find((line) => line.startsWith('Error: '))
      expect(error).toMatch(
        /^Error: systemctl --user daemon-reload failed: .+; .+homeauth\.service is left in place\.$/,
      )
      expect(existsSync(unitFileIn(env))).toBe(true)
    },
  )

  it('--now runs exactly systemctl daemon-reload and enable --now', async () => {
    const configDir = configCopy()
    const fake = fakeSystemctlPath()
    const result = await runCli(['service', 'install', '--config-dir', configDir, '--now'], {
      env: {...userEnv(), PATH: fake.path},
    })
    expect(result.code, result.stderr).toBe(0)
    expect(result.stdout).toContain('enabled and started')
    expect(readFileSync(fake.log, 'utf8')).toBe(
      '--user daemon-reload\n--user enable --now homeauth.service\n',
    )
  })
})

describe('homeauth service uninstall and status', () => {
  it('uninstall stops, disables and removes the unit, and says so when there is none', async () => {
    const configDir = configCopy()
    const fake = fakeSystemctlPath()
    const env = {...userEnv(), PATH: fake.path}
    expect((await runCli(['service', 'install', '--config-dir', configDir], {env})).code).toBe(0)
    const removed = await runCli(['service', 'uninstall'], {env})
    expect(removed.code).toBe(0)
    expect(removed.stdout).toContain(`Stopped, disabled and removed ${unitFileIn(env)}`)
    expect(existsSync(unitFileIn(env))).toBe(false)
    expect(readFileSync(fake.log, 'utf8')).toBe(
      '--user stop homeauth.service\n--user disable homeauth.service\n--user daemon-reload\n',
    )
    const none = await runCli(['service', 'uninstall'], {env})
    expect(none.code).toBe(0)
    expect(none.stdout).toContain('nothing to remove')
  })

  it.runIf(noSystemd)(
    'uninstall where systemd does not run still removes the unit, with a warning',
    async () => {
      const configDir = configCopy()
      const env = userEnv()
      expect((await runCli(['service', 'install', '--config-dir', configDir], {env})).code).toBe(0)
      const removed = await runCli(['service', 'uninstall'], {env})
      expect(removed.code).toBe(0)
      expect(removed.stderr).toContain('Warning: systemd did not answer')
      expect(removed.stdout).toBe(`Removed ${unitFileIn(env)}; there was nothing to stop or disable.\n`)
      expect(existsSync(unitFileIn(env))).toBe(false)
    },
  )

  it('uninstall never says it stopped what no systemd could have been running', async () => {
    const configDir = configCopy()
    const bin = tempDir()
    writeFileSync(
      path.join(bin, 'systemctl'),
      '#!/bin/sh\necho "System has not been booted with systemd as init system (PID 1). Can\'t operate." >&2\nexit 1\n',
      {mode: 0o755},
    )
    const env = {...userEnv(), PATH: `${bin}:${process.env.PATH}`}
    expect((await runCli(['service', 'install', '--config-dir', configDir], {env})).code).toBe(0)
    const removed = await runCli(['service', 'uninstall'], {env})
    expect(removed.code).toBe(0)
    expect(removed.stderr).toContain('nothing was running under it')
    expect(removed.stdout).toBe(`Removed ${unitFileIn(env)}; there was nothing to stop or disable.\n`)
    expect(existsSync(unitFileIn(env))).toBe(false)
  })

  it.runIf(noSystemd)('status says systemd is not running (exit 3), in text and JSON', async () => {
    const configDir = configCopy()
    const env = userEnv()
    expect((await runCli(['service', 'install', '--config-dir', configDir], {env})).code).toBe(0)
    const text = await runCli(['service', 'status'], {env})
    expect(text.code).toBe(ExitCode.notRunning)
    expect(text.stdout).toContain(`unit file: ${unitFileIn(env)}\n`)
    expect(text.stderr).toContain('Warning: systemd is not running here')
    const json = await runCli(['service', 'status', '--json'], {env})
    expect(json.code).toBe(ExitCode.notRunning)
    expect(JSON.parse(json.stdout)).toMatchObject({
      scope: 'user',
      unitFile: unitFileIn(env),
      installed: true,
      active: null,
      systemdProblem: expect.stringContaining('systemd is not running here'),
    })
  })

  it('status says when systemctl is not there at all', async () => {
    const result = await runCli(['service', 'status', '--system', '--json'], {env: {PATH: tempDir()}})
    expect(result.code).toBe(ExitCode.notRunning)
    expect(JSON.parse(result.stdout)).toMatchObject({
      scope: 'system',
      unitFile: '/etc/systemd/system/homeauth.service',
      systemdProblem: 'systemctl was not found: systemd is not installed here.',
    })
  })
})

describe('a server started by the unit', () => {
  const started: CliProcess[] = []
  afterEach(async () => {
    for (const server of started.splice(0)) {
      if (server.child.exitCode === null && server.child.signalCode === null) {
        server.child.kill('SIGKILL')
        await server.exited
      }
    }
  })

  /** Runs the unit's ExecStart= as written, in the environment systemd gives a user service. */
  function startAsUnit(unit: string, home: string): CliProcess {
    const [program, ...args] = execStartWords(unit)
    const child = spawn(program!, args, {
      env: {
        PATH: '/usr/local/bin:/usr/bin:/bin',
        HOME: home,
        LANG: 'C.UTF-8',
        INVOCATION_ID: '9f0c1a2b3c4d4e5f8a9b0c1d2e3f4a5b',
        MANAGER_PID: String(process.pid),
      },
      stdio: 'pipe',
    })
    const server = new CliProcess(child)
    started.push(server)
    return server
  }

  it('serves the secret over TLS; status, stop and logs see systemd; passwd reloads it; SIGTERM stops it with 0', async () => {
    const configDir = await initialisedForLoopback(path.join(tempDir(), 'my 100% home'))
    const env = userEnv()
    const printed = await runCli(['service', 'install', '--config-dir', configDir, '--print'], {env})
    expect(printed.code).toBe(0)
    expect(printed.stdout).toContain('--config-dir "')
    const server = startAsUnit(printed.stdout, env.HOME!)
    const [url] = await server.waitFor(urlPattern)
    const ca = readFileSync(path.join(configDir, 'ca.pem'), 'utf8')
    const response = await request(`${url}api/secret`, {ca, auth: owner})
    expect(response.status).toBe(200)
    expect(JSON.parse(response.body)).toEqual({message: secret})

    const status = await runCli(['status', '--config-dir', configDir, '--json'])
    expect(status.code).toBe(0)
    expect(JSON.parse(status.stdout)).toMatchObject({
      running: true,
      pid: server.child.pid,
      logFile: null,
      supervisor: {name: 'systemd', scope: 'user', unit: 'homeauth.service'},
    })
    const statusText = await runCli(['status', '--config-dir', configDir])
    expect(statusText.stdout).toContain('runs under:  systemd (systemctl --user status homeauth.service)')
    expect(statusText.stdout).toContain('log:         the journal: journalctl --user -u homeauth.service')

    const stop = await runCli(['stop', '--config-dir', configDir])
    expect(stop.code).toBe(ExitCode.usage)
    expect(stop.stderr).toContain('runs under systemd')
    expect(stop.stderr).toContain('Run: systemctl --user stop homeauth.service')
    expect(isAlive(server.child.pid!)).toBe(true)

    const logs = await runCli(['logs', '--config-dir', configDir, '-n', '50', '--follow'])
    expect(logs.code).toBe(0)
    expect(logs.stderr).toContain('Run: journalctl --user -u homeauth.service -n 50 -f')

    const changed = await runCli(['passwd', '--config-dir', configDir, '--password-stdin'], {
      input: 'Evil Woman 1975\n',
    })
    expect(changed.code, changed.stderr).toBe(0)
    await server.waitFor(/credentials read again/)
    const renewed = await request(`${url}api/secret`, {ca, auth: {...owner, password: 'Evil Woman 1975'}})
    expect(renewed.status).toBe(200)

    server.child.kill('SIGTERM')
    expect((await server.exited).code).toBe(0)
    expect(existsSync(path.join(configDir, 'state.json'))).toBe(false)
    chmodSync(configDir, 0o700)
    // An init and seven more commands, each a Node start: more than the default 30 s on a loaded machine.
  }, 90_000)

  /** A loopback port that was free a moment ago. */
  async function freePort(): Promise<number> {
    const server = net.createServer()
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    const {port} = server.address() as net.AddressInfo
    await new Promise((resolve) => server.close(resolve))
    return port
  }

  it('answers /auth on the stored auth listener, believing X-Forwarded-For from the stored trusted proxy (the forward-auth and boot steps together)', async () => {
    const configDir = configCopy()
    const authPort = await freePort()
    const stored = await runCli([
      'settings',
      'set',
      '--config-dir',
      configDir,
      '--auth-listen',
      `127.0.0.1:${authPort}`,
      '--trust-proxy',
      '127.0.0.1',
      '--max-failures',
      '2',
    ])
    expect(stored.code, stored.stderr).toBe(0)
    const env = userEnv()
    const printed = await runCli(['service', 'install', '--config-dir', configDir, '--print'], {env})
    expect(printed.code).toBe(0)
    expect(execStartWords(printed.stdout)).toEqual([
      process.execPath,
      runJs,
      'serve',
      '--config-dir',
      configDir,
    ])
    const server = startAsUnit(printed.stdout, env.HOME!)
    await server.waitFor(urlPattern)

    const auth = `http://127.0.0.1:${authPort}/auth`
    const from = (client: string, password: string) =>
      request(auth, {headers: {'x-forwarded-for': client}, auth: {...owner, password}})
    // Two wrong guesses lock out the client the proxy names, not the proxy: another client still signs in.
    expect((await from('203.0.113.7', 'wrong guess')).status).toBe(401)
    expect((await from('203.0.113.7', 'wrong guess')).status).toBe(401)
    expect((await from('203.0.113.7', owner.password)).status).toBe(429)
    const admitted = await from('203.0.113.8', owner.password)
    expect(admitted.status).toBe(200)
    expect(admitted.headers['remote-user']).toBe(owner.username)

    const status = await runCli(['status', '--config-dir', configDir, '--json'])
    expect(JSON.parse(status.stdout)).toMatchObject({
      running: true,
      pid: server.child.pid,
      authListen: auth,
      trustProxy: ['127.0.0.1'],
    })
    const statusText = await runCli(['status', '--config-dir', configDir])
    expect(statusText.stdout).toContain(`auth:        ${auth} (for a reverse proxy)`)
    expect(statusText.stdout).toContain('trusts X-Forwarded-For from: 127.0.0.1')

    server.child.kill('SIGTERM')
    expect((await server.exited).code).toBe(0)
  }, 60_000)
})

import {chownSync, copyFileSync, mkdirSync, readFileSync, statSync, symlinkSync, writeFileSync} from 'node:fs'
import path from 'node:path'

import {describe, expect, it} from 'vitest'

import {
  enableService,
  homeauthProgram,
  planService,
  serviceState,
  uninstallService,
  unitPath,
  writeUnit,
  type InstallRequest,
  type Systemctl,
  type SystemctlResult,
} from '../../src/daemon/service.js'
import {detectSupervisor, journalCommand, systemctlCommand} from '../../src/daemon/supervisor.js'
import {ExitCode, HomeauthError} from '../../src/errors.js'
import {homeauthCommand} from '../../src/invocation.js'
import {projectDir, runJs} from '../helpers/cli.js'
import {useInitialisedConfig} from '../helpers/service.js'
import {useTempDir} from '../helpers/temp.js'

const tempDir = useTempDir()
const configCopy = useInitialisedConfig()

/** The HomeauthError that `run` throws or rejects with. */
async function rejection(run: () => unknown): Promise<HomeauthError> {
  const error = await Promise.resolve()
    .then(run)
    .then(
      () => undefined,
      (caught: unknown) => caught,
    )
  expect(error).toBeInstanceOf(HomeauthError)
  return error as HomeauthError
}
const isRoot = process.getuid?.() === 0

/** A systemctl that records what it is asked and answers from `answers` (exit 0, no output otherwise). */
function fakeSystemctl(answers: Record<string, Partial<SystemctlResult>> = {}) {
  const calls: string[] = []
  const systemctl: Systemctl = async (args) => {
    calls.push(args.join(' '))
    return {code: 0, stdout: '', stderr: '', ...answers[args.join(' ')]}
  }
  return {calls, systemctl}
}

const notBooted = {
  code: 1,
  stderr:
    "System has not been booted with systemd as init system (PID 1). Can't operate.\nFailed to connect to bus: Host is down\n",
}

function request(configDir: string, options: Partial<InstallRequest> = {}): InstallRequest {
  return {
    scope: 'user',
    configDir,
    nodePath: process.execPath,
    packageRoot: projectDir,
    ...options,
  }
}

describe('homeauthProgram', () => {
  it('gives the real path of bin/run.js', () => {
    const root = tempDir()
    symlinkSync(projectDir, path.join(root, 'link'))
    expect(homeauthProgram(path.join(root, 'link'))).toBe(runJs)
  })

  it('refuses a homeauth inside npx’s cache, also reached through a symlink, telling to install it first', async () => {
    const cache = path.join(tempDir(), '.npm', '_npx', '0123abcd', 'node_modules', 'homeauth')
    mkdirSync(path.join(cache, 'bin'), {recursive: true})
    copyFileSync(runJs, path.join(cache, 'bin', 'run.js'))
    const link = path.join(tempDir(), 'homeauth')
    symlinkSync(cache, link)
    for (const root of [cache, link]) {
      const error = await rejection(async () => homeauthProgram(root))
      expect(error.exitCode).toBe(ExitCode.usage)
      expect(error.message).toContain("npx's cache")
      expect(error.suggestions.join(' ')).toContain('npm install -g ./homeauth-*.tgz')
    }
  })
})

describe('unitPath', () => {
  it('puts a user unit under $XDG_CONFIG_HOME (when absolute), else ~/.config, and a system unit in /etc', () => {
    expect(unitPath('user', {XDG_CONFIG_HOME: '/x/config'}, '/home/pi')).toBe(
      '/x/config/systemd/user/homeauth.service',
    )
    expect(unitPath('user', {XDG_CONFIG_HOME: 'relative'}, '/home/pi')).toBe(
      '/home/pi/.config/systemd/user/homeauth.service',
    )
    expect(unitPath('user', {}, '/home/pi')).toBe('/home/pi/.config/systemd/user/homeauth.service')
    expect(unitPath('system', {XDG_CONFIG_HOME: '/x'})).toBe('/etc/systemd/system/homeauth.service')
  })
})

describe('planService', () => {
  it('refuses a config directory without init, naming homeauth init (exit 8)', async () => {
    const error = await rejection(() => planService(request(tempDir()), {}))
    expect(error.exitCode).toBe(ExitCode.invalidSetup)
    expect(error.suggestions).toEqual([`Run: ${homeauthCommand('init')}`])
  })

  it('plans a user unit with the commands to enable it and the user to let linger', async () => {
    const configDir = configCopy()
    const env = {XDG_CONFIG_HOME: path.join(tempDir(), 'xdg')}
    const plan = await planService(request(configDir), env)
    expect(plan.unitFile).toBe(path.join(env.XDG_CONFIG_HOME, 'systemd/user/homeauth.service'))
    expect(plan.commands).toEqual([
      ['--user', 'daemon-reload'],
      ['--user', 'enable', '--now', 'homeauth.service'],
    ])
    expect(plan.lingerUser).toBeTruthy()
    expect(plan.text).toContain(`ExecStart=${process.execPath} ${runJs} serve --config-dir ${configDir}\n`)
  })

  it('refuses a user unit for a port below 1024, naming --system, where a system unit gets the capability', async () => {
    const configDir = configCopy()
    const file = path.join(configDir, 'config.json')
    const config = JSON.parse(readFileSync(file, 'utf8')) as {serve: object}
    writeFileSync(file, JSON.stringify({...config, serve: {...config.serve, port: 443}}), {mode: 0o600})
    const error = await rejection(() => planService(request(configDir), {}))
    expect(error.exitCode).toBe(ExitCode.usage)
    expect(error.message).toContain('Port 443')
    expect(error.suggestions[0]).toContain('--system')
    if (!isRoot) return
    chownSync(configDir, 65534, 65534)
    const plan = await planService(request(configDir, {scope: 'system'}), {})
    expect(plan.text).toMatch(/^AmbientCapabilities=CAP_NET_BIND_SERVICE$/m)
  })

  it.runIf(isRoot)('refuses a user unit for a config directory another user owns', async () => {
    const configDir = configCopy()
    chownSync(configDir, 65534, 65534)
    const error = await rejection(() => planService(request(configDir), {}))
    expect(error.exitCode).toBe(ExitCode.usage)
    expect(error.message).toContain('belongs to uid 65534')
    expect(error.suggestions[0]).toContain('--system')
  })

  it('refuses --user-name without --system', async () => {
    const configDir = configCopy()
    const error = await rejection(() => planService(request(configDir, {userName: 'nobody'}), {}))
    expect(error.exitCode).toBe(ExitCode.usage)
  })

  it.runIf(isRoot)('never plans a system unit that runs as root', async () => {
    const configDir = configCopy()
    for (const userName of [undefined, 'root']) {
      const error = await rejection(() => planService(request(configDir, {scope: 'system', userName}), {}))
      expect(error.exitCode).toBe(ExitCode.usage)
      expect(error.message).toContain('never runs as root')
    }
  })

  it.runIf(isRoot)(
    'runs a system unit as the config directory’s owner, and refuses a user who does not own it',
    async () => {
      const configDir = configCopy()
      const mismatch = await rejection(() =>
        planService(request(configDir, {scope: 'system', userName: 'nobody'}), {}),
      )
      expect(mismatch.message).toContain('belongs to uid 0, not to nobody')
      chownSync(configDir, 65534, 65534)
      const plan = await planService(request(configDir, {scope: 'system'}), {})
      expect(plan.account).toMatchObject({user: 'nobody', uid: 65534})
      expect(plan.unitFile).toBe('/etc/systemd/system/homeauth.service')
      expect(plan.text).toMatch(/^User=nobody$/m)
      expect(plan.commands).toEqual([['daemon-reload'], ['enable', '--now', 'homeauth.service']])
      expect(plan.lingerUser).toBeUndefined()
    },
  )
})

describe('writeUnit', () => {
  it('writes the unit with mode 0644, leaves the same unit alone, and replaces a different one only when forced', async () => {
    const unitFile = path.join(tempDir(), 'systemd', 'user', 'homeauth.service')
    const plan = {
      scope: 'user' as const,
      configDir: '/a',
      unitFile,
      text: '# Written by homeauth service install for /a.\n',
      commands: [],
    }
    expect(await writeUnit(plan, false)).toBe(true)
    expect(statSync(unitFile).mode & 0o777).toBe(0o644)
    expect(await writeUnit(plan, false)).toBe(false)

    const other = {...plan, text: '# Written by homeauth service install for /b.\n'}
    const error = await rejection(() => writeUnit(other, false))
    expect(error.exitCode).toBe(ExitCode.usage)
    expect(error.message).toContain('(for /a)')
    expect(error.suggestions[0]).toContain('--force')
    expect(readFileSync(unitFile, 'utf8')).toBe(plan.text)
    expect(await writeUnit(other, true)).toBe(true)
    expect(readFileSync(unitFile, 'utf8')).toBe(other.text)
  })
})

describe('writeUnit where it may not write', () => {
  // /sys refuses new directories even to root (EPERM), as /etc/systemd/system refuses other users.
  it('names sudo for a system unit it cannot write', async () => {
    const plan = {
      scope: 'system' as const,
      configDir: '/a',
      unitFile: '/sys/homeauth-test/homeauth.service',
      text: '',
      commands: [],
    }
    const error = await rejection(() => writeUnit(plan, false))
    expect(error.exitCode).toBe(ExitCode.usage)
    expect(error.message).toMatch(
      /^Cannot write \/sys\/homeauth-test\/homeauth\.service \(E(PERM|ACCES)\)\.$/,
    )
    expect(error.suggestions).toEqual([
      `Run it as root: sudo ${homeauthCommand('service install --system --config-dir /a')}`,
    ])
  })
})

describe('enableService', () => {
  it('runs the commands in order and stops at the first failure with its one line (exit 3, file kept)', async () => {
    const plan = {
      scope: 'user' as const,
      configDir: '/a',
      unitFile: '/u/homeauth.service',
      text: '',
      commands: [
        ['--user', 'daemon-reload'],
        ['--user', 'enable', '--now', 'homeauth.service'],
      ],
    }
    const working = fakeSystemctl()
    await enableService(plan, working.systemctl)
    expect(working.calls).toEqual(['--user daemon-reload', '--user enable --now homeauth.service'])

    const failing = fakeSystemctl({'--user daemon-reload': notBooted})
    const error = await rejection(() => enableService(plan, failing.systemctl))
    expect(failing.calls).toEqual(['--user daemon-reload'])
    expect(error.exitCode).toBe(ExitCode.notRunning)
    expect(error.message).toBe(
      "systemctl --user daemon-reload failed: System has not been booted with systemd as init system (PID 1). Can't operate.; /u/homeauth.service is left in place.",
    )
  })
})

describe('uninstallService', () => {
  function installed() {
    const env = {XDG_CONFIG_HOME: tempDir()}
    const unitFile = unitPath('user', env)
    mkdirSync(path.dirname(unitFile), {recursive: true})
    writeFileSync(unitFile, '[Service]\n')
    return {env, unitFile}
  }

  it('stops, disables, removes the file and reloads systemd', async () => {
    const {env, unitFile} = installed()
    const {calls, systemctl} = fakeSystemctl()
    expect(await uninstallService('user', env, systemctl)).toEqual({
      unitFile,
      removed: true,
      managerAbsent: undefined,
    })
    expect(calls).toEqual([
      '--user stop homeauth.service',
      '--user disable homeauth.service',
      '--user daemon-reload',
    ])
    expect(() => statSync(unitFile)).toThrow()
  })

  it('removes the file where no systemd runs, saying so', async () => {
    const {env, unitFile} = installed()
    const {calls, systemctl} = fakeSystemctl({'--user stop homeauth.service': notBooted})
    const result = await uninstallService('user', env, systemctl)
    expect(result.removed).toBe(true)
    expect(result.managerAbsent).toContain('has not been booted with systemd')
    expect(calls).toEqual(['--user stop homeauth.service', '--user disable homeauth.service'])
    expect(() => statSync(unitFile)).toThrow()
  })

  it('keeps the file when systemctl refuses for another reason', async () => {
    const {env, unitFile} = installed()
    const {systemctl} = fakeSystemctl({'--user stop homeauth.service': {code: 1, stderr: 'Access denied\n'}})
    const error = await rejection(() => uninstallService('user', env, systemctl))
    expect(error.message).toContain('Access denied')
    expect(statSync(unitFile).isFile()).toBe(true)
  })

  it('does nothing when there is no unit', async () => {
    const {calls, systemctl} = fakeSystemctl()
    expect((await uninstallService('user', {XDG_CONFIG_HOME: tempDir()}, systemctl)).removed).toBe(false)
    expect(calls).toEqual([])
  })
})

describe('serviceState', () => {
  it('reports what is-enabled and is-active answer', async () => {
    const {calls, systemctl} = fakeSystemctl({
      'is-enabled homeauth.service': {stdout: 'enabled\n'},
      'is-active homeauth.service': {stdout: 'active\n'},
    })
    const state = await serviceState('system', {}, systemctl)
    expect(calls).toEqual(['is-enabled homeauth.service', 'is-active homeauth.service'])
    expect(state).toMatchObject({scope: 'system', enabled: 'enabled', active: 'active', systemdProblem: null})
  })

  it('says when systemd is not running, or not installed', async () => {
    const env = {XDG_CONFIG_HOME: tempDir()}
    const absent = fakeSystemctl({'--user is-active homeauth.service': notBooted})
    expect(await serviceState('user', env, absent.systemctl)).toMatchObject({
      installed: false,
      active: null,
      systemdProblem: expect.stringContaining('systemd is not running here'),
    })
    const missing: Systemctl = async () => ({code: null, stdout: '', stderr: 'spawn systemctl ENOENT'})
    expect((await serviceState('user', env, missing)).systemdProblem).toContain('not installed')
  })
})

describe('detectSupervisor', () => {
  const userCgroup = '0::/user.slice/user-1000.slice/user@1000.service/app.slice/homeauth.service\n'
  const systemCgroup = '0::/system.slice/homeauth.service\n'

  it('finds systemd by INVOCATION_ID, and the unit and its manager by the cgroup', () => {
    expect(detectSupervisor({INVOCATION_ID: 'a1'}, userCgroup)).toEqual({
      name: 'systemd',
      scope: 'user',
      unit: 'homeauth.service',
    })
    expect(detectSupervisor({INVOCATION_ID: 'a1'}, systemCgroup)).toEqual({
      name: 'systemd',
      scope: 'system',
      unit: 'homeauth.service',
    })
    expect(detectSupervisor({INVOCATION_ID: 'a1'}, '0::/system.slice/homeauth-lab.service\n')?.unit).toBe(
      'homeauth-lab.service',
    )
  })

  it('trusts INVOCATION_ID where the cgroup names no unit (a container), MANAGER_PID telling a user manager', () => {
    expect(detectSupervisor({INVOCATION_ID: 'a1'}, '0::/\n')).toEqual({
      name: 'systemd',
      scope: 'system',
      unit: 'homeauth.service',
    })
    expect(
      detectSupervisor({INVOCATION_ID: 'a1', MANAGER_PID: '900'}, '9:name=systemd:/\n0::/\n')?.scope,
    ).toBe('user')
  })

  it('is not fooled by an INVOCATION_ID inherited from another unit, or absent', () => {
    expect(
      detectSupervisor(
        {INVOCATION_ID: 'a1'},
        '0::/user.slice/user-1000.slice/user@1000.service/app.slice/tmux.service\n',
      ),
    ).toBeUndefined()
    expect(
      detectSupervisor({INVOCATION_ID: 'a1'}, '0::/user.slice/user-1000.slice/session-2.scope\n'),
    ).toBeUndefined()
    expect(detectSupervisor({}, systemCgroup)).toBeUndefined()
  })

  it('names the systemctl and journalctl commands for its manager', () => {
    const user = detectSupervisor({INVOCATION_ID: 'a1'}, userCgroup)!
    expect(systemctlCommand(user, 'stop')).toBe('systemctl --user stop homeauth.service')
    expect(journalCommand(user)).toBe('journalctl --user -u homeauth.service')
    const system = detectSupervisor({INVOCATION_ID: 'a1'}, systemCgroup)!
    expect(systemctlCommand(system, 'stop')).toBe('systemctl stop homeauth.service')
    expect(journalCommand(system)).toBe('journalctl -u homeauth.service')
  })
})

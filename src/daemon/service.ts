import {execFile} from 'node:child_process'
import {promises as fs, realpathSync} from 'node:fs'
import os from 'node:os'
import path from 'node:path'

import {requireConfig, serverPort} from '../config/config.js'
import {osUsername} from '../credentials/os-user.js'
import {publicFileMode, writeFileAtomic} from '../config/files.js'
import {ExitCode, HomeauthError, errorCode, usageError} from '../errors.js'
import {homeauthCommand, shellQuoted} from '../invocation.js'
import {accountById, accountByName, type Account} from './accounts.js'
import {findRunningServer} from './state.js'
import {firstUnprivilegedPort, systemctlArgs, unitName, unitText, type ServiceScope} from './unit.js'

/** What running `systemctl ARGS` gave: its exit code (null when it could not be started) and output. */
export interface SystemctlResult {
  code: number | null
  stdout: string
  stderr: string
}

/** Runs systemctl with these arguments; the default runs the real one, tests may pass their own. */
export type Systemctl = (args: string[]) => Promise<SystemctlResult>

export const runSystemctl: Systemctl = (args) =>
  new Promise((resolve) => {
    execFile('systemctl', args, {timeout: 60_000}, (error, stdout, stderr) => {
      if (error && typeof error.code === 'string') resolve({code: null, stdout, stderr: error.message})
      else resolve({code: error ? Number(error.code ?? 1) : 0, stdout, stderr})
    })
  })

/** systemctl's own words when no systemd manager runs for it to talk to (a container, WSL, a chroot). */
const noManager = /not been booted with systemd|Failed to connect to bus|Failed to connect to user scope bus/i

/** Where the unit file goes: $XDG_CONFIG_HOME/systemd/user (default ~/.config) or /etc/systemd/system. */
export function unitPath(scope: ServiceScope, env: NodeJS.ProcessEnv, home = os.homedir()): string {
  if (scope === 'system') return path.join('/etc/systemd/system', unitName)
  const configHome = env.XDG_CONFIG_HOME?.startsWith('/') ? env.XDG_CONFIG_HOME : path.join(home, '.config')
  return path.join(configHome, 'systemd', 'user', unitName)
}

/**
 * The absolute real path of homeauth's bin/run.js under `packageRoot`. One inside npx's cache
 * (`<npm cache>/_npx/<hash>/`) is refused: npm may empty that cache at any time, and the unit
 * would then fail at the next boot.
 */
export function homeauthProgram(packageRoot: string): string {
  const runJs = realpathSync(path.join(packageRoot, 'bin', 'run.js'))
  if (runJs.split(path.sep).includes('_npx')) {
    throw usageError(`homeauth runs from npx's cache (${runJs}), which npm may clear at any time.`, [
      'Install it first (in a clone: npm pack && npm install -g ./homeauth-*.tgz), then run homeauth service install again.',
    ])
  }
  return runJs
}

export interface InstallRequest {
  scope: ServiceScope
  configDir: string
  /** For --system: who runs it (default: the config directory's owner). */
  userName?: string
  nodePath: string
  packageRoot: string
}

export interface ServicePlan {
  scope: ServiceScope
  /** The config directory the unit serves (absolute, real). */
  configDir: string
  unitFile: string
  text: string
  /** The systemctl argument lists that enable and start it. */
  commands: string[][]
  /** For a user unit: who must have lingering enabled to run it without a login. */
  lingerUser?: string
  /** For a system unit: the account it runs as. */
  account?: Account
}

/** The account a system unit runs as: `userName`, else the config directory's `owner`; never root, and only the owner. */
async function systemAccount(
  configDir: string,
  owner: number,
  userName: string | undefined,
): Promise<Account> {
  const account = userName === undefined ? await accountById(owner) : await accountByName(userName)
  if (!account) {
    throw usageError(
      userName === undefined
        ? `The owner of ${configDir} (uid ${owner}) has no user name for User=.`
        : `There is no user named ${userName}.`,
      ['Pass --user-name with an existing user.'],
    )
  }
  // serve refuses to run as root: a bug in it would then own the machine, for a port it does not need root for.
  if (account.uid === 0) {
    throw usageError(
      `homeauth never runs as root (${userName === undefined ? `the owner of ${configDir}` : '--user-name'} is ${account.user}).`,
      ['Pass --user-name with an ordinary user, and a --config-dir that user owns.'],
    )
  }
  if (account.uid !== owner) {
    throw usageError(`${configDir} belongs to uid ${owner}, not to ${account.user}; serve would refuse it.`, [
      `Run: chown -R ${shellQuoted(account.user)} ${shellQuoted(configDir)}, or pass --config-dir with a directory ${account.user} owns.`,
    ])
  }
  return account
}

/** The unit for this config directory and where it goes, checked (init done, not npx's cache, not root) but not written. */
export async function planService(request: InstallRequest, env: NodeJS.ProcessEnv): Promise<ServicePlan> {
  const configDir = path.resolve(request.configDir)
  const config = await requireConfig(configDir)
  const realConfigDir = realpathSync(configDir)
  const runJsPath = homeauthProgram(request.packageRoot)
  const {scope} = request
  if (scope === 'user' && request.userName !== undefined) {
    throw usageError('--user-name is for a system unit: a user unit runs as you.', ['Add --system.'])
  }
  const port = serverPort(config.serve.port)
  if (scope === 'user' && port > 0 && port < firstUnprivilegedPort) {
    throw usageError(`Port ${port} is below 1024, and a user unit cannot be allowed to bind it.`, [
      `Use --system (the unit then gets CAP_NET_BIND_SERVICE alone), or a port from 1024 up (${homeauthCommand('settings set --port 8443')}).`,
    ])
  }
  const owner = (await fs.stat(realConfigDir)).uid
  if (scope === 'user' && process.getuid && owner !== process.getuid()) {
    throw usageError(
      `${configDir} belongs to uid ${owner}: a user unit runs as you, and serve would refuse it.`,
      [`Write a system unit that runs as its owner: ${homeauthCommand('service install --system')}`],
    )
  }
  const account = scope === 'system' ? await systemAccount(realConfigDir, owner, request.userName) : undefined
  const text = unitText({
    scope,
    nodePath: request.nodePath,
    runJsPath,
    configDir: realConfigDir,
    port,
    account: account && {user: account.user, group: account.group},
  })
  return {
    scope,
    configDir: realConfigDir,
    unitFile: unitPath(scope, env),
    text,
    commands: [systemctlArgs(scope, 'daemon-reload'), systemctlArgs(scope, 'enable', '--now', unitName)],
    lingerUser: scope === 'user' ? osUsername() : undefined,
    account,
  }
}

/**
 * Refuses to install while a server started another way (serve, serve --detach) runs on the config
 * directory: the unit's serve would find it there, exit 9, and be restarted until systemd gives up.
 * One that systemd runs already is the service itself, and may be installed over.
 */
export async function refuseRunningServer(plan: ServicePlan): Promise<void> {
  const running = await findRunningServer(plan.configDir)
  if (!running || running.supervisor) return
  throw new HomeauthError(
    `homeauth already runs on ${plan.configDir} (PID ${running.pid}); the service's serve would find it there and exit.`,
    {
      exitCode: ExitCode.portUnavailable,
      suggestions: [`Stop it first: ${homeauthCommand('stop')}, then run service install again.`],
    },
  )
}

/** Writes the planned unit (0644, atomically); false when the same text is already there. */
export async function writeUnit(plan: ServicePlan, force: boolean): Promise<boolean> {
  const existing = await fs.readFile(plan.unitFile, 'utf8').catch((error: unknown) => {
    if (errorCode(error) === 'ENOENT') return undefined
    throw error
  })
  if (existing === plan.text) return false
  if (existing !== undefined && !force) {
    const written = /^# Written by homeauth service install for (.*)\.$/m.exec(existing)?.[1]
    throw usageError(
      `${plan.unitFile} already exists${written ? ` (for ${written})` : ''} and differs from the unit homeauth would write.`,
      [
        `Replace it with: ${homeauthCommand('service install --force')} (add --print to see the new one first).`,
      ],
    )
  }
  try {
    await fs.mkdir(path.dirname(plan.unitFile), {recursive: true})
    await writeFileAtomic(plan.unitFile, plan.text, publicFileMode)
  } catch (error) {
    if (!['EACCES', 'EPERM', 'EROFS'].includes(errorCode(error) ?? '')) throw error
    throw usageError(`Cannot write ${plan.unitFile} (${errorCode(error)}).`, [
      plan.scope === 'system'
        ? `Run it as root: sudo ${homeauthCommand('service install --system', plan.configDir)}`
        : `Check the permissions of ${path.dirname(plan.unitFile)}.`,
    ])
  }
  return true
}

function systemctlFailure(args: string[], result: SystemctlResult, unitFile: string, kept: boolean) {
  const said = result.stderr.trim().split('\n')[0] || `exit code ${result.code}`
  const where = kept ? `; ${unitFile} is left in place` : ''
  return new HomeauthError(`systemctl ${args.join(' ')} failed: ${said}${where}.`, {
    exitCode: ExitCode.notRunning,
    suggestions: noManager.test(result.stderr)
      ? [
          `Run it on a machine booted with systemd, or start homeauth another way: ${homeauthCommand('serve --detach')}`,
        ]
      : [],
  })
}

/** Runs the plan's systemctl commands in order, stopping at the first that fails (the unit file stays). */
export async function enableService(plan: ServicePlan, systemctl: Systemctl): Promise<void> {
  for (const args of plan.commands) {
    const result = await systemctl(args)
    if (result.code !== 0) throw systemctlFailure(args, result, plan.unitFile, true)
  }
}

export interface UninstallResult {
  unitFile: string
  /** False when there was no unit file. */
  removed: boolean
  /** Set when no systemd manager answered: nothing could be running under it, so nothing was stopped. */
  managerAbsent?: string
}

/** Stops and disables the unit, removes its file and has systemd forget it. */
export async function uninstallService(
  scope: ServiceScope,
  env: NodeJS.ProcessEnv,
  systemctl: Systemctl,
): Promise<UninstallResult> {
  const unitFile = unitPath(scope, env)
  if (!(await fs.stat(unitFile).catch(() => undefined))) return {unitFile, removed: false}
  let managerAbsent: string | undefined
  const run = async (...args: string[]) => {
    const full = systemctlArgs(scope, ...args)
    const result = await systemctl(full)
    if (result.code === 0) return
    if (result.code !== null && noManager.test(result.stderr))
      managerAbsent = result.stderr.trim().split('\n')[0]
    else throw systemctlFailure(full, result, unitFile, true)
  }
  await run('stop', unitName)
  await run('disable', unitName)
  await fs.rm(unitFile)
  if (!managerAbsent) await run('daemon-reload')
  return {unitFile, removed: true, managerAbsent}
}

export interface ServiceState {
  scope: ServiceScope
  unitFile: string
  installed: boolean
  /** systemctl is-enabled's answer (enabled, disabled, …), null when it gave none. */
  enabled: string | null
  /** systemctl is-active's answer (active, inactive, failed, …), null when no systemd manager answered. */
  active: string | null
  /** Why systemd could not be asked (not installed, not running); null when it answered. */
  systemdProblem: string | null
}

/** Whether the unit file exists, and what systemd says of it (is-enabled, is-active). */
export async function serviceState(
  scope: ServiceScope,
  env: NodeJS.ProcessEnv,
  systemctl: Systemctl,
): Promise<ServiceState> {
  const unitFile = unitPath(scope, env)
  const installed = (await fs.stat(unitFile).catch(() => undefined)) !== undefined
  const answer = (result: SystemctlResult) =>
    result.code === null ? '' : result.stdout.trim().split('\n')[0]!
  const enabledResult = await systemctl(systemctlArgs(scope, 'is-enabled', unitName))
  const activeResult = await systemctl(systemctlArgs(scope, 'is-active', unitName))
  let systemdProblem: string | null = null
  if (activeResult.code === null) systemdProblem = 'systemctl was not found: systemd is not installed here.'
  else if (noManager.test(activeResult.stderr)) {
    systemdProblem = `systemd is not running here: ${activeResult.stderr.trim().split('\n')[0]}`
  }
  return {
    scope,
    unitFile,
    installed,
    enabled: answer(enabledResult) || null,
    active: systemdProblem ? null : answer(activeResult) || null,
    systemdProblem,
  }
}

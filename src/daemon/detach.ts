import {spawn} from 'node:child_process'
import path from 'node:path'
import type {Readable} from 'node:stream'

import {ensureConfigDir} from '../config/files.js'
import type {ServeSettings} from '../config/serve-settings.js'
import {isStoredSettingName, storableValue} from '../config/stored-settings.js'
import type {Credentials} from '../credentials/credentials.js'
import {ExitCode, HomeauthError} from '../errors.js'
import {invokedAs, invokedAsVariable} from '../invocation.js'
import {configPath} from '../paths.js'
import {probeHealth} from '../web/health.js'
import {failureFdVariable, parseStartFailure} from './failure-report.js'
import {findRunningServer} from './state.js'

export interface DetachOptions {
  /** Given at start-up (flags, environment or prompt); undefined means the stored hash. */
  credentials?: Credentials
  /** The environment to start from, e.g. process.env. */
  env: NodeJS.ProcessEnv
  timeoutMs?: number
}

/** What detach needs to know of one of serve's flags; oclif's flag definitions have this shape. */
export interface FlagShape {
  type: 'boolean' | 'option'
  allowNo?: boolean
}

/** Serve's command line as parsed: its flag definitions, in their documented order, and their values. */
export interface ServeCommandLine {
  definitions: Record<string, FlagShape>
  values: Record<string, unknown>
}

/** How a detached `serve` is started: its arguments, its environment, and what to write to its stdin. */
export interface BackgroundCommand {
  args: string[]
  env: NodeJS.ProcessEnv
  /** Handed over on the child's stdin (with --password-stdin among `args`), never on its command line. */
  password?: string
}

/**
 * Flags the background serve does not get as they were given: the credentials and --secret (see
 * backgroundCommand), the config directory and log file (put first, made absolute), and what only
 * the starting process does.
 */
const notHandedDown = new Set([
  'username',
  'password',
  'password-stdin',
  'secret',
  'config-dir',
  'log-file',
  'detach',
  'qr',
])

const absolute = (file: string) => path.resolve(file)

/** A flag as the child gets it: repeated for each value of a multiple one, absent when not set. */
function flagArguments(name: string, shape: FlagShape, value: unknown): string[] {
  if (value === undefined) return []
  if (shape.type === 'boolean') return value ? [`--${name}`] : shape.allowNo ? [`--no-${name}`] : []
  // The child may start in another directory: settings that name files are handed down absolute.
  const convert = (one: string) => (isStoredSettingName(name) ? storableValue(name, one) : one)
  return (Array.isArray(value) ? value : [value]).flatMap((one) => [`--${name}`, convert(String(one))])
}

/**
 * The background `serve`'s command line (every flag it was given but the secrets and what only
 * the parent does, paths made absolute, its log file) and environment. The password goes over
 * stdin, so HOMEAUTH_PASSWORD is removed; a secret given with --secret goes in the environment
 * (not visible in ps), any other is found again by the child from --secret-file, HOMEAUTH_SECRET
 * or the config. The child's hints name the command as this process was started (`npx homeauth`,
 * `homeauth`, a path).
 */
export function backgroundCommand(
  settings: Pick<ServeSettings, 'configDir' | 'secret'>,
  commandLine: ServeCommandLine,
  credentials: Credentials | undefined,
  env: NodeJS.ProcessEnv,
): BackgroundCommand {
  const args = [
    'serve',
    ...['--config-dir', absolute(settings.configDir)],
    ...['--log-file', absolute(configPath(settings.configDir, 'log'))],
    ...(credentials === undefined ? [] : ['--username', credentials.username, '--password-stdin']),
    ...Object.entries(commandLine.definitions)
      .filter(([name]) => !notHandedDown.has(name))
      .flatMap(([name, shape]) => flagArguments(name, shape, commandLine.values[name])),
  ]
  const {HOMEAUTH_PASSWORD: _password, ...inherited} = env
  return {
    args,
    env: {
      ...inherited,
      [invokedAsVariable]: invokedAs(),
      ...(settings.secret === undefined ? {} : {HOMEAUTH_SECRET: settings.secret}),
    },
    password: credentials?.password,
  }
}

export interface DetachedServer {
  pid: number
  url: string
  logFile: string
}

/** Why the background server exited before it answered: what it reported, else its exit code. */
function startFailure(report: string, code: number | null, logFile: string): HomeauthError {
  const failure = parseStartFailure(report)
  if (failure)
    return new HomeauthError(failure.message, {
      exitCode: failure.exitCode as ExitCode,
      suggestions: failure.suggestions,
    })
  return new HomeauthError(`The background server exited with code ${code} before it answered.`, {
    exitCode: (code ?? ExitCode.unexpected) as ExitCode,
    suggestions: [`See ${logFile}.`],
  })
}

/**
 * Starts `serve` again as a background process (its own session and process group, stdin closed
 * after the password, output to the log) and resolves once it answers GET /healthz over TLS.
 * If it exits first, rejects with the failure it reported on a pipe (see failure-report.ts).
 */
export async function startDetached(
  settings: ServeSettings,
  commandLine: ServeCommandLine,
  options: DetachOptions,
): Promise<DetachedServer> {
  const {configDir} = settings
  const logFile = configPath(configDir, 'log')
  const {args, env, password} = backgroundCommand(settings, commandLine, options.credentials, options.env)
  await ensureConfigDir(configDir)
  const [script = ''] = process.argv.slice(1)
  const child = spawn(process.execPath, [...process.execArgv, script, ...args], {
    detached: true,
    stdio: ['pipe', 'ignore', 'ignore', 'pipe'],
    env: {...env, [failureFdVariable]: '3'},
  })
  child.stdin!.end(password === undefined ? '' : `${password}\n`)
  const reports = child.stdio[3] as Readable
  let report = ''
  reports.setEncoding('utf8').on('data', (text: string) => (report += text))
  // 'close' comes once the child has exited and its report pipe is read to the end.
  let exit: number | null | undefined
  child.once('close', (code) => (exit = code))

  const timeoutMs = options.timeoutMs ?? 20_000
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 100))
    if (exit !== undefined) throw startFailure(report, exit, logFile)
    const state = await findRunningServer(configDir)
    if (state && state.pid === child.pid && (await probeHealth(state.url)).ok) {
      reports.destroy()
      child.unref()
      return {pid: state.pid, url: state.url, logFile}
    }
  }
  reports.destroy()
  child.kill('SIGTERM')
  throw new HomeauthError(
    `The background server did not answer /healthz within ${timeoutMs / 1000} seconds.`,
    {
      exitCode: ExitCode.timedOut,
      suggestions: [`See ${logFile}.`],
    },
  )
}

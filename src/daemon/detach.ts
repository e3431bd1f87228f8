import {spawn} from 'node:child_process'
import {promises as fs} from 'node:fs'
import path from 'node:path'

import {ensureConfigDir} from '../config/files.js'
import type {ServeSettings} from '../config/serve-settings.js'
import type {Credentials} from '../credentials/credentials.js'
import {ExitCode, HomeauthError} from '../errors.js'
import {invokedAs, invokedAsVariable} from '../invocation.js'
import {configPath} from '../paths.js'
import {parseAuthListen} from '../net/auth-listener.js'
import {probeHealth} from '../web/health.js'
import {checkTrustedProxies} from '../web/trusted-proxies.js'
import {findRunningServer} from './state.js'

export interface DetachOptions {
  /** Given at start-up (flags, environment or prompt); undefined means the stored hash. */
  credentials?: Credentials
  /** The environment to start from, e.g. process.env. */
  env: NodeJS.ProcessEnv
  timeoutMs?: number
}

/** How a detached `serve` is started: its arguments, its environment, and what to write to its stdin. */
export interface BackgroundCommand {
  args: string[]
  env: NodeJS.ProcessEnv
  /** Handed over on the child's stdin (with --password-stdin among `args`), never on its command line. */
  password?: string
}

/**
 * The background `serve`'s command line (every setting but the secrets, paths made absolute, its
 * log file) and environment. The password goes over stdin, so HOMEAUTH_PASSWORD is removed; a
 * secret given with --secret goes in the environment (not visible in ps), any other is found
 * again by the child from --secret-file, HOMEAUTH_SECRET or the config. The child's hints name
 * the command as this process was started (`npx homeauth`, `homeauth`, a path).
 */
export function backgroundCommand(
  settings: ServeSettings,
  credentials: Credentials | undefined,
  env: NodeJS.ProcessEnv,
): BackgroundCommand {
  const option = (name: string, value: string | number | undefined) =>
    value === undefined ? [] : [name, String(value)]
  const absolute = (file: string | undefined) => file && path.resolve(file)
  const args = [
    'serve',
    ...option('--config-dir', absolute(settings.configDir)),
    ...option('--log-file', absolute(configPath(settings.configDir, 'log'))),
    ...(credentials === undefined ? [] : ['--username', credentials.username, '--password-stdin']),
    ...option('--port', settings.port),
    ...option('--host', settings.host),
    ...option('--cert', absolute(settings.tlsFiles?.cert)),
    ...option('--key', absolute(settings.tlsFiles?.key)),
    ...settings.extraHosts.flatMap((host) => ['--san', host]),
    ...option('--secret-file', absolute(settings.secretFile)),
    ...option('--realm', settings.realm),
    ...(settings.frameAncestors ?? []).flatMap((source) => ['--frame-ancestors', source]),
    ...option('--max-failures', settings.throttle.maxFailures),
    ...option('--failure-window', settings.throttle.windowMs / 1000),
    ...option('--lockout', settings.throttle.lockoutMs / 1000),
    ...settings.trustProxy.flatMap((proxy) => ['--trust-proxy', proxy]),
    ...option('--auth-listen', settings.authListen && authListenArgument(settings.authListen)),
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

/** The --auth-listen value for the child, which starts in another directory: a socket path made absolute. */
function authListenArgument(value: string): string {
  const address = parseAuthListen(value)
  return 'socketPath' in address ? address.socketPath : value
}

export interface DetachedServer {
  pid: number
  url: string
  logFile: string
}

async function sizeOf(file: string): Promise<number> {
  return fs.stat(file).then(
    (stats) => stats.size,
    () => 0,
  )
}

/** The error a failed background server wrote to its log, as the foreground would have shown it. */
async function failureFromLog(logFile: string, offset: number, code: number | null): Promise<HomeauthError> {
  const text = await fs.readFile(logFile, 'utf8').then(
    (all) => all.slice(offset),
    () => '',
  )
  const lines = text.split('\n')
  const message = lines.find((line) => line.startsWith('Error: '))?.slice('Error: '.length)
  const suggestions = lines
    .filter((line) => line.startsWith('  Try: '))
    .map((line) => line.slice('  Try: '.length))
  return new HomeauthError(message ?? `The background server exited with code ${code} before it answered.`, {
    exitCode: (code ?? ExitCode.unexpected) as ExitCode,
    suggestions: message ? suggestions : [`See ${logFile}.`],
  })
}

/**
 * Starts `serve` again as a background process (its own session and process group, stdin closed
 * after the password, output to the log) and resolves once it answers GET /healthz over TLS.
 * If it exits first, rejects with the error it logged and its exit code.
 */
export async function startDetached(
  settings: ServeSettings,
  options: DetachOptions,
): Promise<DetachedServer> {
  const {configDir} = settings
  // Checked here too: a bad value is refused at once rather than from the background server's log.
  checkTrustedProxies(settings.trustProxy)
  const logFile = configPath(configDir, 'log')
  const {args, env, password} = backgroundCommand(settings, options.credentials, options.env)
  await ensureConfigDir(configDir)
  const offset = await sizeOf(logFile)
  const [script = ''] = process.argv.slice(1)
  const child = spawn(process.execPath, [...process.execArgv, script, ...args], {
    detached: true,
    stdio: ['pipe', 'ignore', 'ignore'],
    env,
  })
  child.stdin.end(password === undefined ? '' : `${password}\n`)
  let exit: number | null | undefined
  child.once('exit', (code) => (exit = code))

  const timeoutMs = options.timeoutMs ?? 20_000
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 100))
    if (exit !== undefined) throw await failureFromLog(logFile, offset, exit)
    const state = await findRunningServer(configDir)
    if (state && state.pid === child.pid && (await probeHealth(state.url)).ok) {
      child.unref()
      return {pid: state.pid, url: state.url, logFile}
    }
  }
  child.kill('SIGTERM')
  throw new HomeauthError(
    `The background server did not answer /healthz within ${timeoutMs / 1000} seconds.`,
    {
      exitCode: ExitCode.timedOut,
      suggestions: [`See ${logFile}.`],
    },
  )
}

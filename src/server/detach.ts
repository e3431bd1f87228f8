import {spawn} from 'node:child_process'
import {promises as fs} from 'node:fs'
import path from 'node:path'

import {ensureConfigDir} from '../config/files.js'
import {ExitCode, HomeauthError} from '../errors.js'
import {probeHealth} from './health.js'
import {findRunningServer} from './state.js'

export interface DetachOptions {
  configDir: string
  /** Arguments for the background `serve`, including --log-file. */
  args: string[]
  /** Handed over on the child's stdin (with --password-stdin among `args`), never on its command line. */
  password?: string
  env: NodeJS.ProcessEnv
  logFile: string
  timeoutMs?: number
}

export interface Detached {
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
export async function startDetached(options: DetachOptions): Promise<Detached> {
  await ensureConfigDir(options.configDir)
  const offset = await sizeOf(options.logFile)
  const [script = ''] = process.argv.slice(1)
  const child = spawn(process.execPath, [...process.execArgv, script, ...options.args], {
    detached: true,
    stdio: ['pipe', 'ignore', 'ignore'],
    env: options.env,
  })
  child.stdin.end(options.password === undefined ? '' : `${options.password}\n`)
  let exit: number | null | undefined
  child.once('exit', (code) => (exit = code))

  const deadline = Date.now() + (options.timeoutMs ?? 20_000)
  while (Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 100))
    if (exit !== undefined) throw await failureFromLog(options.logFile, offset, exit)
    const state = await findRunningServer(options.configDir)
    if (state && state.pid === child.pid && (await probeHealth(state.url)).ok) {
      child.unref()
      return {pid: state.pid, url: state.url, logFile: options.logFile}
    }
  }
  child.kill('SIGTERM')
  throw new HomeauthError(
    `The background server did not answer /healthz within ${(options.timeoutMs ?? 20_000) / 1000} seconds.`,
    {
      exitCode: ExitCode.timedOut,
      suggestions: [`See ${options.logFile}.`],
    },
  )
}

export interface BackgroundServe {
  configDir: string
  logFile: string
  /** Set when the credentials were given at start-up; the password then goes over stdin. */
  username?: string
  port?: number
  host?: string
  cert?: string
  key?: string
  san?: string[]
  secretFile?: string
  realm?: string
  frameAncestors?: string[]
  maxFailures?: number
  failureWindow?: number
  lockout?: number
  trustProxy?: boolean
}

/** The command line of the background `serve`: every setting but the secrets, paths made absolute. */
export function backgroundServeArgs(serve: BackgroundServe): string[] {
  const option = (name: string, value: string | number | undefined) =>
    value === undefined ? [] : [name, String(value)]
  const absolute = (file: string | undefined) => file && path.resolve(file)
  return [
    'serve',
    ...option('--config-dir', absolute(serve.configDir)),
    ...option('--log-file', absolute(serve.logFile)),
    ...(serve.username === undefined ? [] : ['--username', serve.username, '--password-stdin']),
    ...option('--port', serve.port),
    ...option('--host', serve.host),
    ...option('--cert', absolute(serve.cert)),
    ...option('--key', absolute(serve.key)),
    ...(serve.san ?? []).flatMap((host) => ['--san', host]),
    ...option('--secret-file', absolute(serve.secretFile)),
    ...option('--realm', serve.realm),
    ...(serve.frameAncestors ?? []).flatMap((source) => ['--frame-ancestors', source]),
    ...option('--max-failures', serve.maxFailures),
    ...option('--failure-window', serve.failureWindow),
    ...option('--lockout', serve.lockout),
    ...(serve.trustProxy ? ['--trust-proxy'] : []),
  ]
}

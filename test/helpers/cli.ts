import {spawn, type ChildProcessWithoutNullStreams} from 'node:child_process'
import path from 'node:path'
import {fileURLToPath} from 'node:url'

import {afterEach, expect} from 'vitest'

export const projectDir = fileURLToPath(new URL('../../', import.meta.url))
export const runJs = path.join(projectDir, 'bin', 'run.js')

/** How hints name the CLI these helpers start (`node bin/run.js` in the project directory): the script's path from there. */
export const cliCommand = './bin/run.js'

/** The URL a serve banner prints for 127.0.0.1; group 1 is the port. */
export const urlPattern = /https:\/\/127\.0\.0\.1:(\d+)\//

/** The flags that put a server on 127.0.0.1 and a free port: for serve, or stored with settings set. */
export const loopbackFlags = ['--host', '127.0.0.1', '--port', '0']

/** `serve` on 127.0.0.1, port 0, with `configDir`, plus `extra`. */
export const serveArgs = (configDir: string, ...extra: string[]) => [
  'serve',
  '--config-dir',
  configDir,
  ...loopbackFlags,
  ...extra,
]

/**
 * The environment a user's shell would give: no inherited homeauth variables, no colour, no extra
 * CAs, and no NODE_ENV. vitest sets NODE_ENV=test, and oclif then treats a CLI that has a
 * tsconfig.json as in development: every start tries to register a TypeScript loader for src/ (tsx,
 * then ts-node) before it falls back to dist/, three times the start-up cost of a user's run.
 */
export function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env = {...process.env}
  for (const key of Object.keys(env))
    if (key.startsWith('HOMEAUTH_') || key === 'NODE_EXTRA_CA_CERTS') delete env[key]
  delete env.FORCE_COLOR
  delete env.NODE_ENV
  return {...env, ...extra}
}

export interface CliResult {
  code: number | null
  signal: NodeJS.Signals | null
  stdout: string
  stderr: string
}

export class CliProcess {
  stdout = ''
  stderr = ''
  readonly exited: Promise<CliResult>

  constructor(readonly child: ChildProcessWithoutNullStreams) {
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (this.stdout += chunk))
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (this.stderr += chunk))
    this.exited = new Promise((resolve) => {
      child.on('close', (code, signal) => resolve({code, signal, stdout: this.stdout, stderr: this.stderr}))
    })
  }

  /** Waits for the whole serve banner (it ends with "Press Ctrl+C to stop.") and returns its 127.0.0.1 URL match. */
  async waitForBanner(): Promise<RegExpMatchArray> {
    await this.waitFor(/Press Ctrl\+C to stop/)
    return this.waitFor(urlPattern)
  }

  /** Resolves with the first match of `pattern` in stdout; rejects if the process exits first or time runs out. */
  async waitFor(pattern: RegExp, timeoutMs = 15_000): Promise<RegExpMatchArray> {
    const deadline = Date.now() + timeoutMs
    let exited = false
    void this.exited.then(() => (exited = true))
    for (;;) {
      const match = this.stdout.match(pattern)
      if (match) return match
      if (exited || Date.now() > deadline) {
        throw new Error(
          `no ${pattern} in output (exited: ${exited})\nstdout: ${this.stdout}\nstderr: ${this.stderr}`,
        )
      }
      await new Promise((resolve) => setTimeout(resolve, 25))
    }
  }
}

/** Starts `homeauth ARGS` as a child process; killed after the test if still running. */
export function useCli(): (
  args: string[],
  options?: {env?: Record<string, string>; command?: string[]},
) => CliProcess {
  const started: {cli: CliProcess; inTerminal: boolean}[] = []
  afterEach(async () => {
    for (const {cli, inTerminal} of started.splice(0)) {
      if (cli.child.exitCode !== null || cli.child.signalCode !== null) continue
      // Killing `script` only hangs up its terminal, which a serving homeauth takes as a reload: Ctrl+C stops it.
      if (inTerminal) {
        cli.child.stdin.write('\u0003')
        const timer = setTimeout(() => cli.child.kill('SIGKILL'), 5_000)
        await cli.exited
        clearTimeout(timer)
        continue
      }
      cli.child.kill('SIGKILL')
      await cli.exited
    }
  })
  return (args, options = {}) => {
    const [command, ...prefix] = options.command ?? [process.execPath, runJs]
    const child = spawn(command!, [...prefix, ...args], {
      cwd: projectDir,
      env: cleanEnv(options.env),
      stdio: 'pipe',
    })
    const cli = new CliProcess(child)
    started.push({cli, inTerminal: options.command !== undefined})
    return cli
  }
}

/** Runs `homeauth ARGS` to completion with `input` on stdin (closed either way). */
export async function runCli(
  args: string[],
  options: {env?: Record<string, string>; input?: string} = {},
): Promise<CliResult> {
  const child = spawn(process.execPath, [runJs, ...args], {
    cwd: projectDir,
    env: cleanEnv(options.env),
    stdio: 'pipe',
  })
  const cli = new CliProcess(child)
  child.stdin.end(options.input ?? '')
  const timer = setTimeout(() => child.kill('SIGKILL'), 20_000)
  const result = await cli.exited
  clearTimeout(timer)
  return result
}

/** `homeauth init --yes` in `configDir` for `username`, the password from stdin; the test fails if it does. */
export async function initConfig(
  configDir: string,
  credentials: {username: string; password: string},
  ...extra: string[]
): Promise<string> {
  const result = await runCli(
    ['init', '--config-dir', configDir, '-u', credentials.username, '--password-stdin', '--yes', ...extra],
    {input: `${credentials.password}\n`},
  )
  expect(result.code, result.stderr).toBe(0)
  return configDir
}

import {spawn, spawnSync} from 'node:child_process'
import {readFileSync, writeFileSync} from 'node:fs'
import http from 'node:http'
import net from 'node:net'
import path from 'node:path'
import {pathToFileURL} from 'node:url'

import {afterEach, describe, expect, it} from 'vitest'

import {createAuthority} from '../../src/certificates/authority.js'
import {homeConstraints} from '../../src/certificates/constraints.js'
import {ExitCode} from '../../src/errors.js'
import {CliProcess, cleanEnv, projectDir, runCli} from '../helpers/cli.js'
import {useTestServer, user, type TestServer} from '../helpers/server.js'
import {useTempDir} from '../helpers/temp.js'
import {runInTerminal} from '../helpers/terminal.js'

/**
 * The exit-code table of docs/scripting.md, one row each, every code produced by the real CLI in a child process.
 * Other files test each failure in depth; this one is where a reader checks the table as a whole.
 */

const tempDir = useTempDir()
const startTestServer = useTestServer()
const closers: (() => unknown)[] = []
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close()
})

interface Outcome {
  code: number | null
  /** stdout and stderr together (a pseudo terminal has only one). */
  output: string
}

async function cli(args: string[], options: {env?: Record<string, string>} = {}): Promise<Outcome> {
  const {code, stdout, stderr} = await runCli(args, options)
  return {code, output: stdout + stderr}
}

/** fetch-secret against `server`, trusting `ca` (its own CA unless given), with `password`. */
function fetchSecret(server: {url: string}, ca: string, password = user.password) {
  return cli(
    ['fetch-secret', '--config-dir', tempDir(), '--url', server.url, '--ca', ca, '-u', user.username],
    {
      env: {HOMEAUTH_PASSWORD: password},
    },
  )
}

/** fetch-secret against a server that is not homeauth on `port`, without verifying its certificate. */
function fetchInsecurely(port: number, ...extra: string[]) {
  const url = `https://127.0.0.1:${port}`
  return cli(['fetch-secret', '--config-dir', tempDir(), '--url', url, '-u', 'a', '--insecure', ...extra], {
    env: {HOMEAUTH_PASSWORD: 'b'},
  })
}

function caOf(server: TestServer): string {
  return server.tls.authority!.file
}

/** A server that is not homeauth on 127.0.0.1, port 0; closed after the test. */
async function listen(server: net.Server): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  closers.push(() => new Promise((resolve) => server.close(resolve)))
  return (server.address() as net.AddressInfo).port
}

/** A homeauth command whose run() has a bug, run the way bin/run.js runs the real ones. */
async function buggyCommand(): Promise<Outcome> {
  const baseCommand = pathToFileURL(path.join(projectDir, 'dist', 'cli', 'base-command.js')).href
  const script = `
    import {Config, handle} from '@oclif/core'
    const {BaseCommand} = await import(${JSON.stringify(baseCommand)})
    class Buggy extends BaseCommand {
      async run() { return undefined.property }
    }
    await Buggy.run(['--config-dir', ${JSON.stringify(tempDir())}], await Config.load(${JSON.stringify(projectDir)})).catch(handle)
  `
  const child = spawn(process.execPath, ['--input-type=module', '-e', script], {
    cwd: projectDir,
    env: cleanEnv(),
  })
  child.stdin.end()
  const {code, stdout, stderr} = await new CliProcess(child).exited
  return {code, output: stdout + stderr}
}

const hasScript = spawnSync('script', ['--version']).status === 0

const table: {
  code: number
  when: string
  run: () => Promise<Outcome>
  says: string | RegExp
  skip?: boolean
}[] = [
  {
    code: ExitCode.ok,
    when: 'fetch-secret gets the secret',
    run: async () => {
      const server = await startTestServer(tempDir())
      return fetchSecret(server, caOf(server))
    },
    says: 'The answer is 42.',
  },
  {
    code: ExitCode.unexpected,
    when: 'a command fails with a bug',
    run: buggyCommand,
    says: /Unexpected failure: Cannot read properties of undefined/,
  },
  {
    code: ExitCode.usage,
    when: 'a flag does not exist',
    run: () => cli(['status', '--bogus', '--config-dir', tempDir()]),
    says: 'Nonexistent flag: --bogus',
  },
  {
    code: ExitCode.notRunning,
    when: 'status finds no server',
    run: () => cli(['status', '--config-dir', tempDir()]),
    says: 'homeauth is not running.',
  },
  {
    code: ExitCode.credentialsRejected,
    when: 'fetch-secret gets 401',
    run: async () => {
      const server = await startTestServer(tempDir())
      return fetchSecret(server, caOf(server), 'wrong')
    },
    says: `The server rejected the credentials for ${user.username}.`,
  },
  {
    code: ExitCode.throttled,
    when: 'fetch-secret gets 429',
    run: async () => {
      const server = await startTestServer(tempDir(), {throttle: {maxFailures: 1}})
      await fetchSecret(server, caOf(server), 'wrong')
      return fetchSecret(server, caOf(server))
    },
    says: 'Too many failed logins from this address',
  },
  {
    code: ExitCode.untrustedCertificate,
    when: 'fetch-secret is given another CA',
    run: async () => {
      const server = await startTestServer(tempDir())
      const otherCa = path.join(tempDir(), 'other-ca.pem')
      writeFileSync(otherCa, (await createAuthority('another CA', homeConstraints([]))).cert)
      return fetchSecret(server, otherCa)
    },
    says: `The server's certificate is not signed by the CA in`,
  },
  {
    code: ExitCode.timedOut,
    when: 'fetch-secret gets no answer within --timeout',
    run: async () => {
      const sockets: net.Socket[] = []
      const port = await listen(net.createServer((socket) => sockets.push(socket)))
      closers.push(() => sockets.forEach((socket) => socket.destroy()))
      return fetchInsecurely(port, '--timeout', '0.5')
    },
    says: `within 0.5 seconds.`,
  },
  {
    code: ExitCode.invalidSetup,
    when: 'cert finds no CA',
    run: () => cli(['cert', '--config-dir', tempDir()]),
    says: 'There is no CA',
  },
  {
    code: ExitCode.portUnavailable,
    when: 'serve finds its port in use',
    run: async () => {
      const port = await listen(net.createServer())
      const args = ['serve', '--config-dir', tempDir(), '--host', '127.0.0.1', '--port', String(port)]
      return cli([...args, '-u', 'a', '-p', 'b'])
    },
    says: 'another program is already using it',
  },
  {
    code: ExitCode.unexpectedResponse,
    when: 'fetch-secret reaches a plain HTTP server',
    run: async () => {
      const port = await listen(
        http.createServer((_request, response) => response.end('{"message":"plain"}')),
      )
      return fetchInsecurely(port)
    },
    says: 'did not answer with TLS',
  },
  {
    code: ExitCode.cancelled,
    when: 'Ctrl+C is typed at a prompt of init',
    run: () => runInTerminal(['init', '--config-dir', tempDir()], [[/User name/, '\u0003']]),
    says: 'Cancelled.',
    skip: !hasScript,
  },
]

describe('the exit-code table', () => {
  it('lists in docs/scripting.md exactly the codes of src/errors.ts, each with a row below', () => {
    const page = readFileSync(path.join(projectDir, 'docs', 'scripting.md'), 'utf8')
    const start = page.indexOf('\n## Exit codes\n')
    expect(start).not.toBe(-1)
    const end = page.indexOf('\n## ', start + 1)
    const section = page.slice(start, end === -1 ? undefined : end)
    const documented = [...section.matchAll(/^\| (\d+) +\|/gm)].map((match) => Number(match[1]))
    expect(documented).toEqual(Object.values(ExitCode))
    expect(table.map((row) => row.code)).toEqual(documented)
  })

  for (const {code, when, run, says, skip} of table) {
    it.skipIf(skip)(`exits ${code} when ${when}`, async () => {
      const outcome = await run()
      expect(outcome.code, outcome.output).toBe(code)
      if (typeof says === 'string') expect(outcome.output).toContain(says)
      else expect(outcome.output).toMatch(says)
      expect(outcome.output).not.toMatch(/\n\s+at /)
    })
  }
})

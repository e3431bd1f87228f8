import {spawnSync} from 'node:child_process'
import {readFileSync} from 'node:fs'
import path from 'node:path'

import {afterEach, describe, expect, it} from 'vitest'

import {onboardingUrls} from '../../src/server/onboarding-urls.js'
import {halfBlockLines, qrModules} from '../../src/ui/qr.js'
import {runCli, useCli, type CliProcess} from '../helpers/cli.js'
import {printedQrCode} from '../helpers/qr.js'
import {runInTerminal, terminalCommand} from '../helpers/terminal.js'
import {useTempDir} from '../helpers/temp.js'

const tempDir = useTempDir()
const startCli = useCli()
const credentials = {HOMEAUTH_USERNAME: 'JeffLynne', HOMEAUTH_PASSWORD: 'ELO', HOMEAUTH_SECRET: 'Mr Blue Sky'}
const detachedOn: string[] = []

afterEach(async () => {
  for (const configDir of detachedOn.splice(0)) {
    await runCli(['stop', '--config-dir', configDir, '--timeout', '2'])
  }
})

/** What a command printed around its QR code: the code of `url`'s port, or the line saying there is no LAN address. */
function expectCodeForPort(output: string, port: number): void {
  const [url] = onboardingUrls(port).urls
  if (url === undefined) {
    expect(output).toContain('No QR code: this machine has no LAN address')
    return
  }
  expect(printedQrCode(output)).toEqual({url, lines: halfBlockLines(qrModules(url))})
}

const noCode = /Scan with your phone|No QR code|[▀▄█]/

/** `serve ARGS` in a pseudo terminal, stopped with Ctrl+C once its banner is out; resolves with all it printed. */
async function serveAtTerminal(args: string[]): Promise<CliProcess> {
  const cli = startCli([], {command: terminalCommand(['serve', ...args]), env: credentials})
  await cli.waitFor(/Press Ctrl\+C to stop/)
  cli.child.stdin.write('\u0003')
  expect((await cli.exited).code).toBe(0)
  return cli
}

const hasScript = spawnSync('script', ['--version']).status === 0

describe.skipIf(!hasScript)('the onboarding QR code at a terminal', () => {
  it(
    'serve on all interfaces shows the code of the onboarding URL on its port',
    {timeout: 60_000},
    async () => {
      const configDir = tempDir()
      const cli = startCli([], {
        command: terminalCommand(['serve', '--config-dir', configDir, '--port', '0']),
        env: credentials,
      })
      const [, port] = await cli.waitFor(/https:\/\/localhost:(\d+)\//)
      await cli.waitFor(/Press Ctrl\+C to stop/)
      expectCodeForPort(cli.stdout, Number(port))
      const trust = await runCli(['trust', '--config-dir', configDir, '--json'])
      expect(JSON.parse(trust.stdout).urls).toEqual(onboardingUrls(Number(port)).urls)
      cli.child.stdin.write('\u0003')
      expect((await cli.exited).code).toBe(0)
    },
  )

  it('serve on 127.0.0.1 shows no code and says why', async () => {
    const {stdout} = await serveAtTerminal(['--config-dir', tempDir(), '--host', '127.0.0.1', '--port', '0'])
    expect(stdout).toContain(
      'No QR code: the server listens on 127.0.0.1 only, which other devices cannot reach (serve without --host listens on all interfaces).',
    )
    expect(stdout).not.toMatch(/Scan with your phone|[▀▄█]/)
  })

  it('serve --cert/--key shows no code and says there is no local CA to install', async () => {
    const certDir = tempDir()
    const init = await runCli(
      ['init', '--config-dir', certDir, '-u', 'JeffLynne', '--password-stdin', '--yes'],
      {input: 'Hold On Tight\n'},
    )
    expect(init.code).toBe(0)
    const {stdout} = await serveAtTerminal([
      '--config-dir',
      tempDir(),
      '--port',
      '0',
      '--cert',
      path.join(certDir, 'server.pem'),
      '--key',
      path.join(certDir, 'server-key.pem'),
    ])
    expect(stdout).toContain('No QR code: with --cert/--key there is no local CA for devices to install.')
    expect(stdout).not.toMatch(/Scan with your phone|[▀▄█]/)
  })

  it('serve --no-qr shows neither a code nor a reason', async () => {
    const {stdout} = await serveAtTerminal([
      '--config-dir',
      tempDir(),
      '--host',
      '127.0.0.1',
      '--port',
      '0',
      '--no-qr',
    ])
    expect(stdout).toContain('homeauth is serving over HTTPS')
    expect(stdout).not.toMatch(noCode)
  })

  it('serve --detach shows the code in its summary, and the detached server never writes one to its log', async () => {
    const configDir = tempDir()
    detachedOn.push(configDir)
    const cli = startCli([], {
      command: terminalCommand(['serve', '--detach', '--config-dir', configDir, '--port', '0']),
      env: credentials,
    })
    const result = await cli.exited
    expect(result.code).toBe(0)
    const [, port] = result.stdout.match(/https:\/\/localhost:(\d+)\//)!
    expectCodeForPort(result.stdout, Number(port))
    const log = readFileSync(path.join(configDir, 'serve.log'), 'utf8')
    expect(log).toContain('homeauth is serving over HTTPS')
    expect(log).not.toMatch(noCode)
  })

  it(
    'init shows the code of the onboarding URL on the configured port, and not with --no-qr or --json',
    {timeout: 60_000},
    async () => {
      const init = (configDir: string, ...extra: string[]) =>
        runInTerminal(
          [
            'init',
            '--config-dir',
            configDir,
            '-u',
            'JeffLynne',
            '-p',
            'Hold On Tight',
            '--secret',
            'x',
            '--yes',
            ...extra,
          ],
          [],
        )
      const shown = await init(tempDir(), '--port', '9443')
      expect(shown.code).toBe(0)
      expectCodeForPort(shown.output, 9443)
      for (const flag of ['--no-qr', '--json']) {
        const hidden = await init(tempDir(), flag)
        expect(hidden.code).toBe(0)
        expect(hidden.output).not.toMatch(noCode)
      }
    },
  )
})

describe('the onboarding QR code without a terminal', () => {
  it('is never printed when stdout is a pipe', async () => {
    const configDir = tempDir()
    const init = await runCli(
      ['init', '--config-dir', configDir, '-u', 'JeffLynne', '--password-stdin', '--yes'],
      {input: 'Hold On Tight\n'},
    )
    expect(init.code).toBe(0)
    expect(init.stdout + init.stderr).not.toMatch(noCode)
    const cli = startCli(['serve', '--config-dir', configDir, '--port', '0'], {env: credentials})
    await cli.waitFor(/Press Ctrl\+C to stop/)
    expect(cli.stdout + cli.stderr).not.toMatch(noCode)
  })
})

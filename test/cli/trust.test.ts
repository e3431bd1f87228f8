import {spawnSync} from 'node:child_process'
import {X509Certificate} from 'node:crypto'
import {chmodSync, readFileSync} from 'node:fs'
import path from 'node:path'

import {afterEach, describe, expect, it} from 'vitest'

import {platformGuides} from '../../src/certificates/platforms.js'
import {ExitCode} from '../../src/errors.js'
import {onboardingUrls} from '../../src/server/onboarding-urls.js'
import {halfBlockLines, qrModules} from '../../src/ui/qr.js'
import {cliCommand, runCli, serveArgs} from '../helpers/cli.js'
import {useConfigCopies} from '../helpers/config-copies.js'
import {printedQrCode} from '../helpers/qr.js'
import {runInTerminal} from '../helpers/terminal.js'
import {useTempDir} from '../helpers/temp.js'

const tempDir = useTempDir()
const password = 'Mr Blue Sky 1977'
/**
 * Per test, a copy of one `init` per file (see `useConfigCopies`). Made before the afterEach below:
 * vitest runs afterEach hooks last registered first, so a detached server is stopped before its copy goes.
 */
const initialised = useConfigCopies((configDir) => init(configDir))
const detachedOn: string[] = []

afterEach(async () => {
  for (const configDir of detachedOn.splice(0)) {
    await runCli(['stop', '--config-dir', configDir, '--timeout', '2'])
  }
})

async function init(configDir: string, ...extra: string[]): Promise<void> {
  const result = await runCli(
    ['init', '--config-dir', configDir, '-u', 'JeffLynne', '--password-stdin', '--yes', ...extra],
    {input: `${password}\n`},
  )
  expect(result.code).toBe(0)
}

const trust = (configDir: string, ...extra: string[]) =>
  runCli(['trust', '--config-dir', configDir, ...extra])

const caFingerprint = (configDir: string) =>
  new X509Certificate(readFileSync(path.join(configDir, 'ca.pem'))).fingerprint256

describe('homeauth trust', () => {
  it('prints exactly the onboarding URLs, the local URL, the CA fingerprint, the CA file and whether the CA is constrained with --json', async () => {
    const configDir = tempDir()
    await init(configDir, '--port', '9443')
    const result = await trust(configDir, '--json')
    expect(result.code).toBe(0)
    expect(JSON.parse(result.stdout)).toStrictEqual({
      urls: onboardingUrls(9443).urls,
      localUrl: 'http://localhost:9443/',
      caFingerprint: caFingerprint(configDir),
      caFile: path.join(configDir, 'ca.pem'),
      caConstrained: true,
    })
  })

  it(
    'takes the port and address of the running server: no LAN URL for one on 127.0.0.1',
    {timeout: 60_000},
    async () => {
      const configDir = initialised()
      detachedOn.push(configDir)
      const detached = await runCli(serveArgs(configDir, '--detach'))
      expect(detached.code).toBe(0)
      const [, port] = detached.stdout.match(/https:\/\/127\.0\.0\.1:(\d+)\//)!
      const json = JSON.parse((await trust(configDir, '--json')).stdout)
      expect(json).toMatchObject({urls: [], localUrl: `http://localhost:${port}/`})
      const text = await trust(configDir)
      expect(text.stdout).toContain(`on this machine: http://localhost:${port}/`)
      expect(text.stdout).toContain(`http://localhost:${port}/homeauth.mobileconfig`)
      expect(text.stderr).not.toContain('No server is running')
    },
  )

  it('shows the CA fingerprint by name, and per platform its download and steps', async () => {
    const configDir = initialised()
    const result = await trust(configDir)
    expect(result.code).toBe(0)
    const [firstUrl = 'http://localhost:8443/'] = onboardingUrls(8443).urls
    expect(result.stdout).toContain(`CA fingerprint (SHA-256): ${caFingerprint(configDir)}`)
    expect(result.stdout).toContain(`CA certificate: ${path.join(configDir, 'ca.pem')}`)
    const downloads = {mobileconfig: 'homeauth.mobileconfig', der: 'ca.crt', pem: 'ca.pem'}
    for (const guide of Object.values(platformGuides)) {
      const steps = guide.steps.map((step, index) => `  ${index + 1}. ${step}`)
      expect(result.stdout).toContain(
        [`${guide.name}: ${firstUrl}${downloads[guide.format]}`, ...steps].join('\n'),
      )
    }
    expect(result.stdout).not.toContain('Scan with your phone')
    expect(result.stdout).not.toMatch(/[▀▄█]/)
    expect(result.stderr).toContain('No server is running on this config directory')
  })

  it('exits 8 with the way to make a CA when there is none', async () => {
    const configDir = tempDir()
    const result = await trust(configDir)
    expect(result.code).toBe(ExitCode.invalidSetup)
    expect(result.stderr).toBe(
      `Error: There is no CA in ${configDir} yet.\n  Try: Run: ${cliCommand} init --config-dir ${configDir} (or ${cliCommand} serve --config-dir ${configDir}, which makes one).\n`,
    )
    const json = await trust(configDir, '--json')
    expect(json.code).toBe(ExitCode.invalidSetup)
    expect(JSON.parse(json.stdout)).toMatchObject({error: {code: ExitCode.invalidSetup}})
  })

  it('exits 8 when other users can write to the config directory', async () => {
    const configDir = initialised()
    chmodSync(configDir, 0o777)
    const result = await trust(configDir)
    expect(result.code).toBe(ExitCode.invalidSetup)
    expect(result.stderr).toContain(`Try: Run: chmod 700 ${configDir}`)
  })

  it('never loads express', async () => {
    const configDir = initialised()
    const result = await runCli(['trust', '--config-dir', configDir], {env: {NODE_DEBUG: 'module'}})
    expect(result.code).toBe(0)
    expect(result.stderr).toContain('MODULE')
    expect(result.stderr).not.toContain(`${path.sep}node_modules${path.sep}express${path.sep}`)
  })
})

const hasScript = spawnSync('script', ['--version']).status === 0

describe.skipIf(!hasScript)('homeauth trust at a terminal', () => {
  it('shows the QR code of the first onboarding URL, or says why there is none', async () => {
    const configDir = initialised()
    const session = await runInTerminal(['trust', '--config-dir', configDir], [])
    expect(session.code).toBe(0)
    const [firstUrl] = onboardingUrls(8443).urls
    if (firstUrl === undefined) {
      expect(session.output).toContain('No QR code: this machine has no LAN address')
    } else {
      expect(printedQrCode(session.output)).toEqual({
        url: firstUrl,
        lines: halfBlockLines(qrModules(firstUrl)),
      })
    }
  })

  it('shows no QR code with --no-qr', async () => {
    const configDir = initialised()
    const session = await runInTerminal(['trust', '--config-dir', configDir, '--no-qr'], [])
    expect(session.code).toBe(0)
    expect(session.output).toContain('CA fingerprint (SHA-256)')
    expect(session.output).not.toMatch(/Scan with your phone|No QR code|[▀▄█]/)
  })
})

import {readFileSync} from 'node:fs'
import path from 'node:path'

import {afterEach, describe, expect, it} from 'vitest'

import {runCli, serveArgs, useCli, type CliResult} from '../helpers/cli.js'
import {useTempDir} from '../helpers/temp.js'

const tempDir = useTempDir()
const startCli = useCli()
const user = {username: 'JeffLynne', password: 'Turn to Stone'}
const detached: string[] = []

afterEach(async () => {
  for (const configDir of detached.splice(0)) await runCli(['stop', '--config-dir', configDir])
})

const fingerprintPattern = /([0-9A-F]{2}:){31}[0-9A-F]{2}/

/** Lines that say "fingerprint" without saying whose: neither "CA fingerprint" nor "server certificate fingerprint". */
function unnamedFingerprints(text: string): string[] {
  return text.split('\n').filter((line) => /(?<!\bCA |server certificate )fingerprint/i.test(line))
}

/** Every key under `value` that names a fingerprint other than caFingerprint or serverFingerprint. */
function unnamedFingerprintKeys(value: unknown): string[] {
  if (typeof value !== 'object' || value === null) return []
  return Object.entries(value).flatMap(([key, inner]) => [
    ...(/fingerprint/i.test(key) && !['caFingerprint', 'serverFingerprint'].includes(key) ? [key] : []),
    ...unnamedFingerprintKeys(inner),
  ])
}

/** The visible text of an HTML page: no style sheet, no tags, the fingerprint's groups of four bytes joined again. */
function pageText(html: string): string {
  return html
    .replace(/<style[\s\S]*?<\/style>/g, '')
    .replace(/<\/span> <span>/g, ':')
    .replace(/<[^>]+>/g, '')
    .replace(/&#39;/g, "'")
}

async function initialised(): Promise<{configDir: string; init: CliResult}> {
  const configDir = tempDir()
  const args = ['init', '--config-dir', configDir, '-u', user.username, '--password-stdin', '--yes']
  const init = await runCli(args, {input: `${user.password}\n`})
  expect(init.code).toBe(0)
  return {configDir, init}
}

describe('fingerprint labels', () => {
  it('name the CA or the server certificate on every line of every command that shows a fingerprint', async () => {
    const [{configDir, init}, other] = await Promise.all([initialised(), initialised()])
    const run = (...args: string[]) => runCli([...args, '--config-dir', configDir])
    const serve = await runCli(
      [...serveArgs(configDir, '-u', user.username, '--password-stdin'), '--detach'],
      {input: `${user.password}\n`},
    )
    detached.push(configDir)
    expect(serve.code).toBe(0)
    const port = readFileSync(path.join(configDir, 'state.json'), 'utf8').match(/127\.0\.0\.1:(\d+)/)![1]
    const renewed = await run('cert', 'renew')
    const logs = await run('logs')
    const page = await fetch(`http://127.0.0.1:${port}/trust`).then((response) => response.text())
    const foreignCa = path.join(other.configDir, 'ca.pem')
    const untrusted = await runCli(
      ['fetch-secret', '--config-dir', configDir, '-u', user.username, '--ca', foreignCa, '--password-stdin'],
      {input: `${user.password}\n`},
    )
    expect(untrusted.stderr).toContain('server certificate fingerprint')

    const [status, cert, exported, mobileconfig, trust] = await Promise.all([
      run('status'),
      run('cert'),
      run('cert', 'export', '--out', path.join(configDir, 'exported.pem')),
      run('cert', 'export', '--format', 'mobileconfig'),
      run('trust', '--no-qr'),
    ])
    const shown: Record<string, string> = {
      init: init.stdout + init.stderr,
      'serve --detach': serve.stdout + serve.stderr,
      status: status.stdout,
      cert: cert.stdout,
      'cert renew': renewed.stdout + renewed.stderr,
      'cert export --out': exported.stdout,
      'cert export --format mobileconfig': mobileconfig.stdout,
      trust: trust.stdout,
      'logs (the reload after cert renew)': logs.stdout,
      'the onboarding page': pageText(page),
      'fetch-secret from a server of another CA': untrusted.stderr,
    }
    expect(logs.stdout).toContain('server certificate fingerprint')
    for (const [command, text] of Object.entries(shown)) {
      expect(unnamedFingerprints(text), command).toEqual([])
      if (command !== 'serve --detach') expect(text, command).toMatch(fingerprintPattern)
    }

    const jsonRuns = await Promise.all([
      runCli(
        ['init', '--config-dir', tempDir(), '-u', user.username, '--password-stdin', '--yes', '--json'],
        {
          input: `${user.password}\n`,
        },
      ),
      run('status', '--json'),
      run('cert', '--json'),
      run('trust', '--json'),
    ])
    const json = Object.fromEntries(
      ['init --json', 'status --json', 'cert --json', 'trust --json'].map((command, index) => [
        command,
        JSON.parse(jsonRuns[index]!.stdout) as unknown,
      ]),
    )
    for (const [command, value] of Object.entries(json)) {
      expect(unnamedFingerprintKeys(value), command).toEqual([])
      expect(JSON.stringify(value), command).toMatch(fingerprintPattern)
    }
    // About twenty commands, each a Node start: more than the default 30 s on a loaded machine.
  }, 120_000)

  it('name the CA in the banner, and the server certificate in the banner of a server with --cert/--key', async () => {
    const {configDir} = await initialised()
    const withAuthority = startCli(serveArgs(configDir, '--no-qr'))
    await withAuthority.waitForBanner()
    const ownCertificate = startCli(
      serveArgs(
        tempDir(),
        '-u',
        user.username,
        '-p',
        user.password,
        '--no-qr',
        ...['--cert', path.join(configDir, 'server.pem')],
        ...['--key', path.join(configDir, 'server-key.pem')],
      ),
    )
    await ownCertificate.waitForBanner()
    expect(withAuthority.stdout).toMatch(/CA fingerprint \(SHA-256\): ([0-9A-F]{2}:){31}[0-9A-F]{2}/)
    expect(ownCertificate.stdout).toMatch(
      /server certificate fingerprint \(SHA-256\) ([0-9A-F]{2}:){31}[0-9A-F]{2}/,
    )
    for (const banner of [withAuthority.stdout, ownCertificate.stdout])
      expect(unnamedFingerprints(banner)).toEqual([])
  })
})

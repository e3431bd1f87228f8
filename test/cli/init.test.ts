import {X509Certificate} from 'node:crypto'
import {readFileSync, writeFileSync} from 'node:fs'
import path from 'node:path'

import {describe, expect, it} from 'vitest'

import {ExitCode} from '../../src/errors.js'
import {cliCommand, runCli, serveArgs, urlPattern, useCli} from '../helpers/cli.js'
import {modeOf, readPublicFiles, readTree} from '../helpers/files.js'
import {storeAuthority, unconstrainedAuthority} from '../helpers/authorities.js'
import {useTempDir} from '../helpers/temp.js'
import {caFingerprint, init, password, serveOnce} from '../helpers/init.js'

const tempDir = useTempDir()
const startCli = useCli()

describe('homeauth init, scripted', () => {
  it('stores the hash, the config and the certificates with the documented modes', async () => {
    const configDir = path.join(tempDir(), 'homeauth')
    const result = await init(configDir, '--port', '9443', '--secret', 'Evil Woman', '--san', 'pi.home.arpa')
    expect(result.code).toBe(0)
    expect(result.stdout).toContain(`homeauth is set up in ${configDir}`)
    expect(result.stdout).toContain(caFingerprint(configDir))
    expect(result.stderr).toContain(`${cliCommand} serve`)
    expect(modeOf(configDir)).toBe(0o700)
    expect(modeOf(path.join(configDir, 'config.json'))).toBe(0o600)
    expect(modeOf(path.join(configDir, 'ca-key.pem'))).toBe(0o600)
    expect(modeOf(path.join(configDir, 'server-key.pem'))).toBe(0o600)
    expect(modeOf(path.join(configDir, 'ca.pem'))).toBe(0o644)
    const config = JSON.parse(readFileSync(path.join(configDir, 'config.json'), 'utf8'))
    expect(config).toMatchObject({
      version: 3,
      users: [{name: 'JeffLynne', passwordSetAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT/)}],
      secret: 'Evil Woman',
      serve: {port: 9443, san: ['pi.home.arpa']},
    })
    expect(config.users[0].passwordHash).toMatch(/^\$scrypt\$ln=15,r=8,p=3\$/)
    expect(new X509Certificate(readFileSync(path.join(configDir, 'server.pem'))).subjectAltName).toContain(
      'DNS:pi.home.arpa',
    )
  })

  it('writes the password nowhere on disk, in any form a grep would find', async () => {
    const configDir = tempDir()
    expect((await init(configDir)).code).toBe(0)
    const files = readTree(configDir)
    expect(Object.keys(files).length).toBeGreaterThanOrEqual(5)
    for (const [name, bytes] of Object.entries(files)) {
      for (const needle of [
        password,
        Buffer.from(password).toString('base64'),
        Buffer.from(password).toString('hex'),
      ]) {
        expect(bytes.includes(needle), `${name} contains ${needle}`).toBe(false)
      }
    }
  })

  it('prints the summary as JSON with --json', async () => {
    const configDir = tempDir()
    const result = await init(configDir, '--json')
    expect(result.code).toBe(0)
    const json = JSON.parse(result.stdout)
    expect(Object.keys(json).sort()).toEqual([
      'caConstrained',
      'caFile',
      'caFingerprint',
      'configDir',
      'hosts',
      'port',
      'username',
    ])
    expect(json).toMatchObject({
      configDir,
      caFile: path.join(configDir, 'ca.pem'),
      username: 'JeffLynne',
      port: 8443,
      caConstrained: true,
    })
    expect(json.caFingerprint).toBe(caFingerprint(configDir))
    expect(json.hosts).toEqual(expect.arrayContaining(['localhost', '127.0.0.1', '::1']))
  })

  it('exits 2 naming the flag when a value is missing and stdin is not a terminal', async () => {
    const noPassword = await runCli(['init', '--config-dir', tempDir(), '--username', 'JeffLynne', '--yes'])
    expect(noPassword.code).toBe(ExitCode.usage)
    expect(noPassword.stderr).toContain('No password given, and stdin is not a terminal to ask for one.')
    expect(noPassword.stderr).toContain('--password-stdin')
    const noSecret = await runCli(
      ['init', '--config-dir', tempDir(), '--username', 'a', '--password-stdin'],
      {input: `${password}\n`},
    )
    expect(noSecret.code).toBe(ExitCode.usage)
    expect(noSecret.stderr).toContain('--secret-file')
    expect(noSecret.stderr).toContain('--yes')
  })

  it('exits 2 with --json too, and prints the error as JSON', async () => {
    const result = await runCli(['init', '--config-dir', tempDir(), '--json'])
    expect(result.code).toBe(ExitCode.usage)
    expect(JSON.parse(result.stdout)).toEqual({
      error: {
        code: 2,
        message: 'No user name given, and stdin is not a terminal to ask for one.',
        suggestions: expect.any(Array),
      },
    })
  })

  it('refuses to replace an existing config without --force when there is no terminal, changing nothing', async () => {
    const configDir = tempDir()
    expect((await init(configDir)).code).toBe(0)
    const before = readTree(configDir)
    const again = await init(configDir, '--new-ca')
    expect(again.code).toBe(ExitCode.usage)
    expect(again.stderr).toContain(`homeauth is already set up in ${configDir}.`)
    expect(readTree(configDir)).toEqual(before)
  })

  it('keeps the CA with --force, and makes a new one only with --new-ca', async () => {
    const configDir = tempDir()
    expect((await init(configDir)).code).toBe(0)
    const first = caFingerprint(configDir)
    const serverBefore = readPublicFiles(configDir)['server.pem']
    expect((await init(configDir, '--force')).code).toBe(0)
    expect(caFingerprint(configDir)).toBe(first)
    expect(readPublicFiles(configDir)['server.pem']).not.toBe(serverBefore)
    expect((await init(configDir, '--force', '--new-ca')).code).toBe(0)
    expect(caFingerprint(configDir)).not.toBe(first)
  })

  it('keeps a CA that an earlier serve made', async () => {
    const configDir = tempDir()
    await serveOnce(startCli, configDir)
    const made = caFingerprint(configDir)
    expect((await init(configDir)).code).toBe(0)
    expect(caFingerprint(configDir)).toBe(made)
  })

  it('exits 2 before --new-ca replaces a CA that an earlier serve made, and replaces it with --force', async () => {
    const configDir = tempDir()
    await serveOnce(startCli, configDir)
    const before = readTree(configDir)
    const refused = await init(configDir, '--new-ca')
    expect(refused.code).toBe(ExitCode.usage)
    expect(refused.stderr).toContain(`${configDir} already holds a CA, which --new-ca would replace.`)
    expect(refused.stderr).toContain('--force')
    expect(readTree(configDir)).toEqual(before)
    const made = caFingerprint(configDir)
    expect((await init(configDir, '--new-ca', '--force')).code).toBe(0)
    expect(caFingerprint(configDir)).not.toBe(made)
  })

  it('keeps every current answer and the stored hash on a re-run with --yes and no other flags', async () => {
    const configDir = tempDir()
    expect(
      (await init(configDir, '--port', '9443', '--secret', 'Evil Woman', '--san', 'pi.home.arpa')).code,
    ).toBe(0)
    const before = readFileSync(path.join(configDir, 'config.json'), 'utf8')
    const ca = caFingerprint(configDir)
    const again = await runCli(['init', '--config-dir', configDir, '--force', '--yes'])
    expect(again.code).toBe(0)
    expect(readFileSync(path.join(configDir, 'config.json'), 'utf8')).toBe(before)
    expect(caFingerprint(configDir)).toBe(ca)
  })

  it('says how to restart a server that runs on the config directory, rather than to start one', async () => {
    const configDir = tempDir()
    expect((await init(configDir)).code).toBe(0)
    const none = await init(configDir, '--force')
    expect(none.stderr).toContain(`Next:\n  ${cliCommand} serve --config-dir ${configDir}\n`)

    const server = startCli(serveArgs(configDir))
    await server.waitFor(urlPattern)
    const running = await init(configDir, '--force', '--secret', 'Evil Woman')
    expect(running.code).toBe(0)
    expect(running.stderr).toMatch(
      /The running server \(PID \d+\) was told to reload the stored credentials and the certificate; restart it to serve a changed secret message or port\./,
    )
    expect(running.stderr).toContain(
      `To restart it: Ctrl+C where it runs, then ${cliCommand} serve --config-dir ${configDir}\nTry it:\n  curl --cacert `,
    )
    expect(running.stderr).not.toContain('Next:')
  })

  it('exits 8 naming the field when config.json was hand-edited wrongly', async () => {
    const configDir = tempDir()
    expect((await init(configDir)).code).toBe(0)
    const file = path.join(configDir, 'config.json')
    writeFileSync(file, readFileSync(file, 'utf8').replace('"port": 8443', '"port": "8443"'))
    const result = await runCli(['serve', '--config-dir', configDir])
    expect(result.code).toBe(ExitCode.invalidSetup)
    expect(result.stderr).toContain(`${file}: "serve.port": --port must be a whole number from 0 to 65535.`)
    expect(result.stderr).toContain(`${cliCommand} settings reset port`)
  })
})

describe('a CA that vouches only for the home, from the command line', () => {
  const cliJson = async (...args: string[]) => {
    const result = await runCli([...args, '--json'])
    expect(result.code, result.stderr).toBe(0)
    return JSON.parse(result.stdout)
  }

  it('keeps an older unconstrained CA as it is, says so, and --new-ca replaces it with a constrained one permitting the --san names', async () => {
    const configDir = path.join(tempDir(), 'config')
    await storeAuthority(configDir, unconstrainedAuthority(tempDir()))
    const old = caFingerprint(configDir)
    const kept = await init(configDir, '--san', 'bank.example')
    expect(kept.code, kept.stderr).toBe(0)
    expect(kept.stdout).toContain('CA vouches for: any name: it has no name constraints')
    expect(caFingerprint(configDir)).toBe(old)
    expect((await cliJson('cert', '--config-dir', configDir)).authority.nameConstraints).toBeNull()
    expect((await cliJson('trust', '--config-dir', configDir, '--no-qr')).caConstrained).toBe(false)

    const replaced = await init(configDir, '--force', '--new-ca', '--san', 'media.example.net')
    expect(replaced.code, replaced.stderr).toBe(0)
    expect(replaced.stdout).toContain('new, replacing the old one: every device must trust the new CA')
    expect(replaced.stdout).toContain("CA vouches for: only the home's names and private addresses")
    expect(caFingerprint(configDir)).not.toBe(old)
    const cert = await cliJson('cert', '--config-dir', configDir)
    expect(cert.authority.nameConstraints.dnsNames).toEqual(
      expect.arrayContaining(['localhost', 'home.arpa', 'lan', 'internal', 'media.example.net']),
    )
    expect(cert.server.hosts).toContain('media.example.net')
    expect((await cliJson('trust', '--config-dir', configDir, '--no-qr')).caConstrained).toBe(true)
  })

  it('exits 2 naming a --san outside a kept constrained CA, with the init that includes it, and changes nothing', async () => {
    const configDir = tempDir()
    expect((await init(configDir)).code).toBe(0)
    const before = readTree(configDir)
    const refused = await init(configDir, '--force', '--san', 'bank.example')
    expect(refused.code).toBe(ExitCode.usage)
    expect(refused.stderr).toContain('The CA cannot vouch for bank.example')
    expect(refused.stderr).toContain(
      `${cliCommand} init --new-ca --san bank.example --config-dir ${configDir}`,
    )
    const settings = await runCli(['settings', 'set', '--config-dir', configDir, '--san', 'bank.example'])
    expect(settings.code).toBe(ExitCode.usage)
    expect(settings.stderr).toContain('The CA cannot vouch for bank.example')
    expect(readTree(configDir)).toEqual(before)
  })
})

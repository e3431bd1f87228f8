import {X509Certificate} from 'node:crypto'
import {readFileSync} from 'node:fs'
import path from 'node:path'
import tls from 'node:tls'

import {describe, expect, it} from 'vitest'

import {ExitCode} from '../../src/errors.js'
import {cliCommand, initConfig, runCli, serveArgs, urlPattern, useCli} from '../helpers/cli.js'
import {useConfigCopies} from '../helpers/config-copies.js'
import {readPublicFiles} from '../helpers/files.js'
import {request} from '../helpers/https.js'
import {useTempDir} from '../helpers/temp.js'

const tempDir = useTempDir()
const startCli = useCli()
const user = {username: 'JeffLynne', password: 'Livin Thing'}

const initialised = useConfigCopies((configDir) => initConfig(configDir, user))

async function serving(configDir: string) {
  const cli = startCli(serveArgs(configDir))
  const [url, port] = await cli.waitFor(urlPattern)
  return {cli, url: url!, port: Number(port), ca: readFileSync(path.join(configDir, 'ca.pem'), 'utf8')}
}

/** The SHA-256 fingerprint of the certificate a server presents on a new connection. */
function servedFingerprint(port: number, ca: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = tls.connect({host: '127.0.0.1', port, ca, servername: 'localhost'}, () => {
      resolve(socket.getPeerX509Certificate()!.fingerprint256)
      socket.end()
    })
    socket.on('error', reject)
  })
}

function fingerprintOf(file: string): string {
  return new X509Certificate(readFileSync(file)).fingerprint256
}

describe('homeauth passwd', () => {
  it('changes only the stored hash, and a running server accepts the new password at once', async () => {
    const configDir = initialised()
    const server = await serving(configDir)
    const old = await request(`${server.url}api/secret`, {ca: server.ca, auth: user})
    expect(old.status).toBe(200)
    const before = readPublicFiles(configDir)

    const changed = await runCli(['passwd', '--config-dir', configDir, '--password-stdin'], {
      input: 'Sweet Talkin Woman\n',
    })
    expect(changed.code).toBe(0)
    expect(changed.stdout).toContain('Password for JeffLynne changed')
    expect(changed.stderr).toMatch(/The running server \(PID \d+\) was told to reload\./)
    await server.cli.waitFor(/reload: credentials read again/)

    const after = readPublicFiles(configDir)
    for (const name of ['ca.pem', 'ca-key.pem', 'server.pem', 'server-key.pem'])
      expect(after[name]).toBe(before[name])
    expect(after['config.json']).not.toBe(before['config.json'])
    expect((await request(`${server.url}api/secret`, {ca: server.ca, auth: user})).status).toBe(401)
    const fresh = {username: user.username, password: 'Sweet Talkin Woman'}
    expect((await request(`${server.url}api/secret`, {ca: server.ca, auth: fresh})).status).toBe(200)
  })

  it('says that a server started with -u/-p keeps its own credentials, which go on working', async () => {
    const configDir = initialised()
    const own = {username: 'Bev', password: 'Turn to Stone'}
    const cli = startCli(serveArgs(configDir, '-u', own.username, '-p', own.password))
    const [url] = await cli.waitFor(urlPattern)
    const changed = await runCli(['passwd', '--config-dir', configDir, '--password-stdin'], {
      input: 'Sweet Talkin Woman\n',
    })
    expect(changed.code).toBe(0)
    expect(changed.stderr).toMatch(
      /The running server \(PID \d+\) was started with credentials given on its command line, in its environment or at a prompt, and keeps them; restart it to use the stored password\./,
    )
    expect(changed.stderr).not.toContain('was told to reload')
    const ca = readFileSync(path.join(configDir, 'ca.pem'), 'utf8')
    expect((await request(`${url}api/secret`, {ca, auth: own})).status).toBe(200)
  })

  it('no longer renames with --username: another name is refused (exit 2) and nothing changes', async () => {
    const configDir = initialised()
    const before = readPublicFiles(configDir)
    const renamed = await runCli(['passwd', '--config-dir', configDir, '-u', 'Bev', '--password-stdin'], {
      input: 'Xanadu 1980\n',
    })
    expect(renamed.code).toBe(ExitCode.usage)
    expect(renamed.stderr).toContain('There is no user named "Bev" (users: JeffLynne)')
    expect(renamed.stderr).toContain('it does not rename')
    expect(renamed.stderr).toContain(`${cliCommand} user add Bev`)
    expect(readPublicFiles(configDir)).toEqual(before)
    const named = await runCli(
      ['passwd', '--config-dir', configDir, '-u', user.username, '--password-stdin'],
      {
        input: 'Xanadu 1980\n',
      },
    )
    expect(named.code).toBe(0)
    expect(named.stdout).toContain('Password for JeffLynne changed')
  })

  it('exits 8 when homeauth is not initialised', async () => {
    const result = await runCli(['passwd', '--config-dir', tempDir(), '--password-stdin'], {input: 'x\n'})
    expect(result.code).toBe(ExitCode.invalidSetup)
    expect(result.stderr).toContain('is not initialised')
    expect(result.stderr).toContain(`Run: ${cliCommand} init`)
  })

  it('exits 2 without a terminal and without a new password', async () => {
    const result = await runCli(['passwd', '--config-dir', initialised()])
    expect(result.code).toBe(ExitCode.usage)
    expect(result.stderr).toContain('--password-stdin')
  })
})

describe('homeauth cert', () => {
  it('shows both certificates, as text and as JSON', async () => {
    const configDir = initialised()
    const text = await runCli(['cert', '--config-dir', configDir])
    expect(text.code).toBe(0)
    expect(text.stdout).toContain(fingerprintOf(path.join(configDir, 'ca.pem')))
    expect(text.stdout).toMatch(/hosts: +localhost, 127\.0\.0\.1, ::1/)
    expect(text.stdout).toMatch(/vouches for: +only the home's names and private addresses/)
    expect(text.stdout).toMatch(/permitted: +localhost, home\.arpa, lan, internal, .*10\.0\.0\.0\/8/)
    const json = JSON.parse((await runCli(['cert', '--config-dir', configDir, '--json'])).stdout)
    expect(json.authority.caFingerprint).toBe(fingerprintOf(path.join(configDir, 'ca.pem')))
    expect(json.authority.nameConstraints.ipRanges).toContain('fc00::/7')
    expect(json.server).toMatchObject({
      file: path.join(configDir, 'server.pem'),
      serverFingerprint: fingerprintOf(path.join(configDir, 'server.pem')),
    })
    expect(json.server.daysLeft).toBeGreaterThan(390)
    expect(new Date(json.server.notAfter).getTime()).toBeGreaterThan(Date.now())
  })

  it('exits 8 when there is no CA yet', async () => {
    const result = await runCli(['cert', '--config-dir', tempDir()])
    expect(result.code).toBe(ExitCode.invalidSetup)
    expect(result.stderr).toContain('There is no CA in')
  })
})

describe('homeauth cert renew', () => {
  it('issues a new server certificate from the same CA, keeps --san, and the running server switches to it', async () => {
    const configDir = initialised()
    const server = await serving(configDir)
    const caBefore = fingerprintOf(path.join(configDir, 'ca.pem'))
    const serverBefore = fingerprintOf(path.join(configDir, 'server.pem'))
    expect(await servedFingerprint(server.port, server.ca)).toBe(serverBefore)

    const renewed = await runCli(['cert', 'renew', '--config-dir', configDir, '--san', 'pi.home.arpa'])
    expect(renewed.code).toBe(0)
    expect(renewed.stderr).toContain('The CA is unchanged.')
    await server.cli.waitFor(/reload: now serving a new server certificate/)

    expect(fingerprintOf(path.join(configDir, 'ca.pem'))).toBe(caBefore)
    const serverAfter = fingerprintOf(path.join(configDir, 'server.pem'))
    expect(serverAfter).not.toBe(serverBefore)
    expect(await servedFingerprint(server.port, server.ca)).toBe(serverAfter)
    expect(new X509Certificate(readFileSync(path.join(configDir, 'server.pem'))).subjectAltName).toContain(
      'DNS:pi.home.arpa',
    )
    expect(JSON.parse(readFileSync(path.join(configDir, 'config.json'), 'utf8')).serve.san).toEqual([
      'pi.home.arpa',
    ])
    expect((await request(`${server.url}api/secret`, {ca: server.ca, auth: user})).status).toBe(200)
  })

  it('exits 2 on a --san that is not a host name, changing nothing', async () => {
    const configDir = initialised()
    const before = readPublicFiles(configDir)
    const result = await runCli(['cert', 'renew', '--config-dir', configDir, '--san', 'bad host'])
    expect(result.code).toBe(ExitCode.usage)
    expect(readPublicFiles(configDir)).toEqual(before)
  })
})

import {spawnSync} from 'node:child_process'
import {chownSync, readFileSync, writeFileSync} from 'node:fs'
import net from 'node:net'
import path from 'node:path'

import {describe, expect, it} from 'vitest'

import {loadOrCreateServerTls} from '../../src/certificates/store.js'
import {ExitCode} from '../../src/errors.js'
import {runCli, serveArgs, urlPattern, useCli} from '../helpers/cli.js'
import {readableBuild} from '../helpers/readable-build.js'
import {request} from '../helpers/https.js'
import {useTempDir} from '../helpers/temp.js'
import {terminalCommand} from '../helpers/terminal.js'

const tempDir = useTempDir()
const startCli = useCli()
const user = {username: 'JeffLynne', password: 'ELO'}

describe('homeauth serve (as a child process)', () => {
  it('serves the secret to the right credentials and exits 0 on SIGTERM', async () => {
    const configDir = tempDir()
    const cli = startCli(
      serveArgs(configDir, '-u', user.username, '-p', user.password, '--secret', 'Mr Blue Sky'),
    )
    const [url] = await cli.waitFor(urlPattern)
    const ca = readFileSync(path.join(configDir, 'ca.pem'), 'utf8')
    const response = await request(`${url}api/secret`, {ca, auth: user})
    expect(JSON.parse(response.body)).toEqual({message: 'Mr Blue Sky'})
    await cli.waitFor(/GET \/api\/secret 200 [\d.]+ms JeffLynne/)
    cli.child.kill('SIGTERM')
    const result = await cli.exited
    expect(result.code).toBe(0)
    expect(result.stdout).toContain('Received SIGTERM: homeauth stopped.')
    expect(result.stdout + result.stderr).not.toContain(user.password)
  })

  it('prints a plain banner with the CA fingerprint and the credential source, and warns about -p', async () => {
    const configDir = tempDir()
    const cli = startCli(serveArgs(configDir, '-u', user.username, '-p', user.password))
    await cli.waitFor(/Press Ctrl\+C to stop\./)
    expect(cli.stdout).toMatch(/CA fingerprint \(SHA-256\): ([0-9A-F]{2}:){31}[0-9A-F]{2}/)
    expect(cli.stdout).toContain('Credentials: user "JeffLynne", from the command line (-u/-p)')
    expect(cli.stdout).toContain(
      `curl --cacert ${path.join(configDir, 'ca.pem')} -u JeffLynne https://127.0.0.1:`,
    )
    expect(cli.stdout).not.toContain(String.fromCharCode(0x1b))
    expect(cli.stderr).toContain('-p/--password is visible to other users in ps')
  })

  it('reuses the certificate when restarted', async () => {
    const configDir = tempDir()
    const fingerprints: string[] = []
    for (let start = 0; start < 2; start++) {
      const cli = startCli(serveArgs(configDir, '-u', user.username, '-p', user.password))
      const [, fingerprint] = await cli.waitFor(/CA fingerprint \(SHA-256\): (\S+)/)
      fingerprints.push(fingerprint!)
      await cli.waitFor(/Press Ctrl\+C/)
      expect(cli.stdout).toContain(start === 0 ? '(made now)' : '(reused)')
      cli.child.kill('SIGINT')
      expect((await cli.exited).code).toBe(0)
    }
    expect(fingerprints[1]).toBe(fingerprints[0])
  })

  it('takes the password from stdin with --password-stdin', async () => {
    const configDir = tempDir()
    const cli = startCli(serveArgs(configDir, '-u', user.username, '--password-stdin'))
    cli.child.stdin.end(`${user.password}\n`)
    const [url] = await cli.waitForBanner()
    const ca = readFileSync(path.join(configDir, 'ca.pem'), 'utf8')
    expect((await request(`${url}api/secret`, {ca, auth: user})).status).toBe(200)
    expect(cli.stdout).toContain('password from --password-stdin')
    expect(cli.stderr).toBe('')
  })

  it('takes the credentials from HOMEAUTH_USERNAME and HOMEAUTH_PASSWORD', async () => {
    const configDir = tempDir()
    const cli = startCli(serveArgs(configDir), {
      env: {HOMEAUTH_USERNAME: user.username, HOMEAUTH_PASSWORD: user.password},
    })
    const [url] = await cli.waitForBanner()
    const ca = readFileSync(path.join(configDir, 'ca.pem'), 'utf8')
    expect((await request(`${url}api/secret`, {ca, auth: user})).status).toBe(200)
    expect(cli.stdout).toContain('from the environment (HOMEAUTH_USERNAME/HOMEAUTH_PASSWORD)')
  })

  it('serves with the stored hash after init when only HOMEAUTH_PASSWORD is set, warning that it is ignored', async () => {
    const configDir = tempDir()
    const stored = {username: user.username, password: 'Strange Magic'}
    const initialised = await runCli(
      ['init', '--config-dir', configDir, '-u', stored.username, '--password-stdin', '--yes'],
      {input: `${stored.password}\n`},
    )
    expect(initialised.code).toBe(0)
    const cli = startCli(serveArgs(configDir), {env: {HOMEAUTH_PASSWORD: 'not the stored one'}})
    const [url] = await cli.waitForBanner()
    await cli.waitFor(/Press Ctrl\+C/)
    expect(cli.stdout).toContain('Credentials: user "JeffLynne", from the hash stored in config.json')
    const ca = readFileSync(path.join(configDir, 'ca.pem'), 'utf8')
    expect((await request(`${url}api/secret`, {ca, auth: stored})).status).toBe(200)
    const envPassword = {username: user.username, password: 'not the stored one'}
    expect((await request(`${url}api/secret`, {ca, auth: envPassword})).status).toBe(401)
    cli.child.kill('SIGTERM')
    const result = await cli.exited
    expect(result.stderr).toContain(
      'Warning: HOMEAUTH_PASSWORD is ignored because HOMEAUTH_USERNAME is not set; set both to take the credentials from the environment.',
    )
  })

  it('exits 2 naming the flags when -u comes without a password, even with HOMEAUTH_PASSWORD set', async () => {
    const result = await runCli(serveArgs(tempDir(), '-u', user.username), {
      env: {HOMEAUTH_PASSWORD: user.password},
    })
    expect(result.code).toBe(ExitCode.usage)
    expect(result.stderr).toContain('No password given, and stdin is not a terminal to ask for one.')
    expect(result.stderr).toContain('--password-stdin')
  })

  it('exits 2 naming the flags when credentials are missing and stdin is not a terminal', async () => {
    const result = await runCli(serveArgs(tempDir()))
    expect(result.code).toBe(ExitCode.usage)
    expect(result.stderr).toContain('No user name given, and stdin is not a terminal to ask for one.')
    expect(result.stderr).toContain('--password-stdin')
  })

  it('exits 2 when --password and --password-stdin are combined', async () => {
    const result = await runCli(serveArgs(tempDir(), '-u', 'a', '-p', 'b', '--password-stdin'), {
      input: 'c\n',
    })
    expect(result.code).toBe(ExitCode.usage)
    expect(result.stderr).toMatch(/--password-stdin/)
  })

  it('exits 2 on an empty password from stdin', async () => {
    const result = await runCli(serveArgs(tempDir(), '-u', 'a', '--password-stdin'), {input: '\n'})
    expect(result.code).toBe(ExitCode.usage)
    expect(result.stderr).toContain('The password read from stdin is empty.')
  })

  it('exits 2 on a port that is not a number', async () => {
    const result = await runCli(['serve', '--port', 'eighty', '-u', 'a', '-p', 'b'])
    expect(result.code).toBe(ExitCode.usage)
    expect(result.stderr).toMatch(/Expected an integer/)
  })

  it('exits 2 on a --san that is not a host name', async () => {
    const result = await runCli(serveArgs(tempDir(), '-u', 'a', '-p', 'b', '--san', 'not a host'))
    expect(result.code).toBe(ExitCode.usage)
    expect(result.stderr).toContain('--san "not a host" is neither a host name nor an IP address.')
  })

  it('exits 9 with one sentence when the port is busy', async () => {
    const blocker = net.createServer()
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve))
    const {port} = blocker.address() as net.AddressInfo
    try {
      const result = await runCli([
        'serve',
        '--config-dir',
        tempDir(),
        '--host',
        '127.0.0.1',
        '--port',
        String(port),
        '-u',
        'a',
        '-p',
        'b',
      ])
      expect(result.code).toBe(ExitCode.portUnavailable)
      expect(result.stderr).toContain(
        `Cannot listen on port ${port} on 127.0.0.1: another program is already using it.`,
      )
      expect(result.stderr).not.toMatch(/\n\s+at /)
    } finally {
      blocker.close()
    }
  })

  it('exits 8 naming a --cert file that does not exist, and writes nothing', async () => {
    const dir = tempDir()
    const configDir = path.join(dir, 'config')
    const cert = path.join(dir, 'missing.pem')
    const result = await runCli(
      serveArgs(configDir, '-u', 'a', '-p', 'b', '--cert', cert, '--key', path.join(dir, 'key.pem')),
    )
    expect(result.code).toBe(ExitCode.invalidSetup)
    expect(result.stderr).toContain(`The certificate file ${cert} does not exist.`)
    expect(spawnSync('ls', [configDir]).status).not.toBe(0)
  })

  it('exits 8 when the key does not match the certificate', async () => {
    const configDir = tempDir()
    await loadOrCreateServerTls(configDir)
    const result = await runCli(
      serveArgs(
        tempDir(),
        '-u',
        'a',
        '-p',
        'b',
        '--cert',
        path.join(configDir, 'server.pem'),
        '--key',
        path.join(configDir, 'ca-key.pem'),
      ),
    )
    expect(result.code).toBe(ExitCode.invalidSetup)
    expect(result.stderr).toMatch(/does not match the certificate/)
  })

  it('exits 2 when --cert is given without --key', async () => {
    const result = await runCli(serveArgs(tempDir(), '-u', 'a', '-p', 'b', '--cert', 'cert.pem'))
    expect(result.code).toBe(ExitCode.usage)
    expect(result.stderr).toMatch(/--key/)
  })
})

const asNobody = ['runuser', '-u', 'nobody', '--']

/**
 * How to run a command as `nobody` where binding port 443 fails with EACCES: in a fresh network
 * namespace (its ip_unprivileged_port_start is the kernel default, 1024, even in a container that
 * sets 0), else directly where this namespace keeps ports below 444 privileged. Undefined where
 * neither works (no runuser or unshare, or `cli` unreadable by nobody).
 */
function unprivilegedPrefix(cli: string): string[] | undefined {
  const probe = `require('fs').accessSync(${JSON.stringify(cli)}, require('fs').constants.R_OK)
require('net').createServer().listen(443, '127.0.0.1')
  .on('listening', () => process.exit(1))
  .on('error', (error) => process.exit(error.code === 'EACCES' ? 0 : 1))`
  const prefixes = [
    ['unshare', '-n', 'sh', '-c', 'ip link set lo up && exec "$@"', 'sh', ...asNobody],
    asNobody,
  ]
  return prefixes.find(
    ([command, ...args]) => spawnSync(command!, [...args, process.execPath, '-e', probe]).status === 0,
  )
}

/** Where nobody can read the built CLI (see `readableBuild`); only root can run it as nobody. */
const readableDir = process.getuid?.() === 0 ? readableBuild() : undefined
const readableRunJs = readableDir && path.join(readableDir, 'bin', 'run.js')
const unprivileged = readableRunJs && unprivilegedPrefix(readableRunJs)

const unprivilegedTitle = unprivileged
  ? 'homeauth serve as an unprivileged user'
  : 'homeauth serve as an unprivileged user (skipped: needs root, runuser, and unshare or ports below 444 privileged)'

describe.skipIf(!unprivileged)(unprivilegedTitle, () => {
  it('exits 9 saying the port is not permitted when binding port 443 fails with EACCES', async () => {
    const configDir = tempDir()
    chownSync(configDir, 65534, 65534)
    const [command, ...prefix] = unprivileged!
    const result = spawnSync(
      command!,
      [
        ...prefix,
        process.execPath,
        readableRunJs!,
        'serve',
        '--config-dir',
        configDir,
        '--host',
        '127.0.0.1',
        '--port',
        '443',
        '-u',
        'a',
        '-p',
        'b',
      ],
      {cwd: readableDir, encoding: 'utf8', timeout: 20_000, env: {PATH: process.env.PATH, NO_COLOR: '1'}},
    )
    expect(result.status).toBe(ExitCode.portUnavailable)
    expect(result.stderr).toContain(
      'Cannot listen on port 443 on 127.0.0.1: this user is not permitted to bind it.',
    )
  })
})

const hasScript = spawnSync('script', ['--version']).status === 0

describe.skipIf(!hasScript)('homeauth serve at a terminal', () => {
  const scriptCommand = (configDir: string) => terminalCommand(serveArgs(configDir))

  it('asks for the user name and a masked password, then serves', async () => {
    const configDir = tempDir()
    const cli = startCli([], {command: scriptCommand(configDir)})
    await cli.waitFor(/User name/)
    cli.child.stdin.write(`${user.username}\r`)
    await cli.waitFor(/Password for JeffLynne/)
    cli.child.stdin.write('Mr Blue Sky\r')
    const [url] = await cli.waitForBanner()
    expect(cli.stdout).not.toContain('Mr Blue Sky')
    expect(cli.stdout).toContain('from the prompt')
    const ca = readFileSync(path.join(configDir, 'ca.pem'), 'utf8')
    expect(
      (await request(`${url}api/secret`, {ca, auth: {username: user.username, password: 'Mr Blue Sky'}}))
        .status,
    ).toBe(200)
    cli.child.stdin.write('\u0003')
    expect((await cli.exited).code).toBe(0)
  })

  it('leaves quietly with exit 130 on Ctrl+C at the prompt', async () => {
    const cli = startCli([], {command: scriptCommand(tempDir())})
    await cli.waitFor(/User name/)
    cli.child.stdin.write('\u0003')
    const result = await cli.exited
    expect(result.code).toBe(130)
    expect(result.stdout).toContain('Cancelled.')
    expect(result.stdout).not.toMatch(/\n\s+at /)
  })
})

describe('homeauth serve --secret-file', () => {
  it('serves the file’s text without its trailing newline', async () => {
    const dir = tempDir()
    const secretFile = path.join(dir, 'message.txt')
    writeFileSync(secretFile, 'From the file\n', {mode: 0o600})
    const cli = startCli(
      serveArgs(
        path.join(dir, 'config'),
        '-u',
        user.username,
        '-p',
        user.password,
        '--secret-file',
        secretFile,
      ),
    )
    const [url] = await cli.waitFor(urlPattern)
    const ca = readFileSync(path.join(dir, 'config', 'ca.pem'), 'utf8')
    expect(JSON.parse((await request(`${url}api/secret`, {ca, auth: user})).body)).toEqual({
      message: 'From the file',
    })
  })

  it('exits 8 naming a secret file that does not exist', async () => {
    const dir = tempDir()
    const result = await runCli(
      serveArgs(dir, '-u', 'a', '-p', 'b', '--secret-file', path.join(dir, 'nope.txt')),
    )
    expect(result.code).toBe(ExitCode.invalidSetup)
    expect(result.stderr).toContain(`The secret file ${path.join(dir, 'nope.txt')} does not exist.`)
  })
})

import http from 'node:http'
import net from 'node:net'
import path from 'node:path'

import {afterEach, describe, expect, it} from 'vitest'

import {loadOrCreateServerTls} from '../../src/certificates/store.js'
import {ExitCode} from '../../src/errors.js'
import {startServer} from '../../src/net/listen.js'
import {cliCommand, runCli, serveArgs, urlPattern, useCli} from '../helpers/cli.js'
import {request} from '../helpers/https.js'
import {useTestServer, user} from '../helpers/server.js'
import {runInTerminal} from '../helpers/terminal.js'
import {useTempDir} from '../helpers/temp.js'

const tempDir = useTempDir()
const startTestServer = useTestServer()
const startCli = useCli()
const closers: (() => unknown)[] = []
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close()
})

function fetchSecret(
  configDir: string,
  args: string[],
  options: {env?: Record<string, string>; input?: string} = {},
) {
  return runCli(['fetch-secret', '--config-dir', configDir, ...args], options)
}

const password = {HOMEAUTH_PASSWORD: user.password}

/** A server that is not homeauth, on 127.0.0.1 port 0; closed after the test. */
async function listen(server: net.Server): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  closers.push(() => new Promise((resolve) => server.close(resolve)))
  return (server.address() as net.AddressInfo).port
}

describe('homeauth fetch-secret, succeeding', () => {
  it('needs no flags after init: URL from state.json, CA and user from the config, password from the environment', async () => {
    const configDir = tempDir()
    const init = await runCli(
      [
        'init',
        '--config-dir',
        configDir,
        '-u',
        user.username,
        '--password-stdin',
        '--yes',
        '--secret',
        'Do Ya',
      ],
      {
        input: 'Telephone Line\n',
      },
    )
    expect(init.code).toBe(0)
    const server = startCli(serveArgs(configDir))
    await server.waitFor(urlPattern)
    const result = await fetchSecret(configDir, [], {env: {HOMEAUTH_PASSWORD: 'Telephone Line'}})
    expect(result).toMatchObject({code: 0, stdout: 'Do Ya\n', stderr: ''})
  })

  it('takes URL, CA, user and password from flags, with a base URL or the full endpoint', async () => {
    const server = await startTestServer(tempDir())
    const elsewhere = tempDir()
    const ca = server.tls.authority!.file
    for (const url of [server.url, `${server.url}/`, `${server.url}/api/secret`]) {
      const result = await fetchSecret(
        elsewhere,
        ['--url', url, '--ca', ca, '-u', user.username, '--password-stdin'],
        {input: `${user.password}\n`},
      )
      expect(result).toMatchObject({code: 0, stdout: 'The answer is 42.\n'})
    }
  })

  it('takes the user name and password from HOMEAUTH_USERNAME and HOMEAUTH_PASSWORD', async () => {
    const server = await startTestServer(tempDir())
    const env = {HOMEAUTH_USERNAME: user.username, HOMEAUTH_PASSWORD: user.password}
    const result = await fetchSecret(tempDir(), ['--url', server.url, '--ca', server.tls.authority!.file], {
      env,
    })
    expect(result).toMatchObject({code: 0, stdout: 'The answer is 42.\n'})
  })

  it('prints {"message": ...} with --json', async () => {
    const server = await startTestServer(tempDir())
    const result = await fetchSecret(
      tempDir(),
      ['--url', server.url, '--ca', server.tls.authority!.file, '-u', user.username, '--json'],
      {env: password},
    )
    expect(result.code).toBe(0)
    expect(JSON.parse(result.stdout)).toEqual({message: 'The answer is 42.'})
  })

  it('asks for the password, masked, at a terminal', async () => {
    const server = await startTestServer(tempDir())
    const args = [
      'fetch-secret',
      '--config-dir',
      tempDir(),
      '--url',
      server.url,
      '--ca',
      server.tls.authority!.file,
      '-u',
      user.username,
    ]
    const session = await runInTerminal(args, [
      [/Password for JeffLynne at 127\.0\.0\.1:\d+/, `${user.password}\r`],
    ])
    expect(session.code).toBe(0)
    expect(session.output).toContain('The answer is 42.')
    expect(session.output).not.toContain(user.password)
  })

  it('skips verification with --insecure, and says so on stderr', async () => {
    const server = await startTestServer(tempDir())
    const result = await fetchSecret(tempDir(), ['--url', server.url, '-u', user.username, '--insecure'], {
      env: password,
    })
    expect(result).toMatchObject({code: 0, stdout: 'The answer is 42.\n'})
    expect(result.stderr).toContain('--insecure: the server certificate is NOT verified')
  })
})

describe('homeauth fetch-secret, failing', () => {
  it('exits 4 when the server rejects the credentials', async () => {
    const server = await startTestServer(tempDir())
    const result = await fetchSecret(
      tempDir(),
      ['--url', server.url, '--ca', server.tls.authority!.file, '-u', user.username],
      {
        env: {HOMEAUTH_PASSWORD: 'wrong'},
      },
    )
    expect(result.code).toBe(ExitCode.credentialsRejected)
    expect(result.stderr).toContain('The server rejected the credentials for JeffLynne.')
    expect(result.stdout).toBe('')
  })

  it('exits 5 when throttled, with the wait the server asks for', async () => {
    const configDir = tempDir()
    const tls = await loadOrCreateServerTls(configDir)
    const throttling = await startServer({
      handler: (_req, res) =>
        res
          .writeHead(429, {'Retry-After': '120', 'Content-Type': 'application/json'})
          .end('{"message":"Too many attempts."}'),
      plainHandler: (_req, res) => res.writeHead(404).end(),
      tls,
      host: '127.0.0.1',
      port: 0,
    })
    closers.push(() => throttling.close())
    const result = await fetchSecret(
      configDir,
      ['--url', `https://127.0.0.1:${throttling.port}`, '-u', user.username],
      {env: password},
    )
    expect(result.code).toBe(ExitCode.throttled)
    expect(result.stderr).toContain(
      'Too many failed logins from this address: the server asks to wait 120 seconds.',
    )
  })

  it('exits 5 when homeauth is too busy to check the credentials (503), with the wait it asks for', async () => {
    // One client tracked at most, and it locked out: homeauth refuses a new client with 503 rather
    // than forget the lockout.
    const server = await startTestServer(tempDir(), {throttle: {maxClients: 1, maxFailures: 1}})
    const guess = {username: user.username, password: 'not it'}
    const locked = await request(`${server.url}/api/secret`, {
      ca: server.ca,
      auth: guess,
      localAddress: '127.0.0.2',
    })
    expect(locked.status).toBe(401)
    const result = await fetchSecret(
      tempDir(),
      ['--url', server.url, '--ca', server.tls.authority!.file, '-u', user.username],
      {env: password},
    )
    expect(result.code).toBe(ExitCode.throttled)
    expect(result.stderr).toMatch(
      /^Error: The server is too busy to check the credentials now: it asks to wait \d+ seconds\.\n {2}Try: Try again after \d+ seconds\.\n$/,
    )
  })

  it('exits 3 when nothing listens on the port', async () => {
    const closed = net.createServer()
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve))
    const {port} = closed.address() as net.AddressInfo
    await new Promise((resolve) => closed.close(resolve))
    const result = await fetchSecret(
      tempDir(),
      ['--url', `https://127.0.0.1:${port}`, '-u', 'a', '--insecure'],
      {env: password},
    )
    expect(result.code).toBe(ExitCode.notRunning)
    expect(result.stderr).toContain(
      `Cannot reach the server at 127.0.0.1:${port}: nothing is listening there.`,
    )
    expect(result.stderr).toContain(`${cliCommand} serve`)
  })

  it('exits 6 for a server whose certificate another CA signed, showing its fingerprint and --ca', async () => {
    const server = await startTestServer(tempDir())
    const otherConfig = tempDir()
    await loadOrCreateServerTls(otherConfig)
    const result = await fetchSecret(otherConfig, ['--url', server.url, '-u', user.username], {env: password})
    expect(result.code).toBe(ExitCode.untrustedCertificate)
    expect(result.stderr).toContain(
      `The server's certificate is not signed by the CA in ${path.join(otherConfig, 'ca.pem')}.`,
    )
    expect(result.stderr).toContain(
      `Its server certificate fingerprint (SHA-256) is ${server.tls.certificate.fingerprint}.`,
    )
    expect(result.stderr).toContain('--ca')
  })

  it('exits 6 when the certificate does not name the host in the URL', async () => {
    const server = await startTestServer(tempDir(), {host: '127.0.0.2'})
    const result = await fetchSecret(
      tempDir(),
      ['--url', `https://127.0.0.2:${server.listener.port}`, '--ca', server.tls.authority!.file, '-u', 'a'],
      {
        env: password,
      },
    )
    expect(result.code).toBe(ExitCode.untrustedCertificate)
    expect(result.stderr).toContain("The server's certificate is not valid for 127.0.0.2.")
  })

  it('exits 7 when the server never answers within --timeout', async () => {
    const sockets: net.Socket[] = []
    const port = await listen(net.createServer((socket) => sockets.push(socket)))
    closers.push(() => sockets.forEach((socket) => socket.destroy()))
    const result = await fetchSecret(
      tempDir(),
      ['--url', `https://127.0.0.1:${port}`, '-u', 'a', '--insecure', '--timeout', '0.5'],
      {env: password},
    )
    expect(result.code).toBe(ExitCode.timedOut)
    expect(result.stderr).toContain(`No answer from 127.0.0.1:${port} within 0.5 seconds.`)
  })

  it('exits 10 when the port speaks plain HTTP', async () => {
    const port = await listen(http.createServer((_req, res) => res.end('{"message":"plain"}')))
    const result = await fetchSecret(
      tempDir(),
      ['--url', `https://127.0.0.1:${port}`, '-u', 'a', '--insecure'],
      {env: password},
    )
    expect(result.code).toBe(ExitCode.unexpectedResponse)
    expect(result.stderr).toContain(
      `The server at 127.0.0.1:${port} did not answer with TLS (is it plain HTTP?).`,
    )
  })

  it('exits 10 when the answer is not the expected JSON or status', async () => {
    const server = await startTestServer(tempDir())
    const ca = server.tls.authority!.file
    const notJson = await fetchSecret(
      tempDir(),
      ['--url', `${server.url}/healthz`, '--ca', ca, '-u', user.username],
      {env: password},
    )
    expect(notJson.code).toBe(ExitCode.unexpectedResponse)
    expect(notJson.stderr).toContain('The server did not answer with {"message": "..."} JSON.')
    const notFound = await fetchSecret(
      tempDir(),
      ['--url', `${server.url}/api/other`, '--ca', ca, '-u', user.username],
      {env: password},
    )
    expect(notFound.code).toBe(ExitCode.unexpectedResponse)
    expect(notFound.stderr).toContain('The server answered 404 Not Found.')
  })

  it('exits 2 on a URL that is not one, or not https, and on a bad --timeout', async () => {
    const notUrl = await fetchSecret(tempDir(), ['--url', 'pi.local:8443', '-u', 'a'], {env: password})
    expect(notUrl.code).toBe(ExitCode.usage)
    expect(notUrl.stderr).toContain('"pi.local:8443" is not a URL.')
    const plain = await fetchSecret(tempDir(), ['--url', 'http://localhost:8443', '-u', 'a'], {env: password})
    expect(plain.code).toBe(ExitCode.usage)
    expect(plain.stderr).toContain('http URLs are not supported')
    const timeout = await fetchSecret(
      tempDir(),
      ['--url', 'https://localhost:8443', '--timeout', '-1', '-u', 'a'],
      {env: password},
    )
    expect(timeout.code).toBe(ExitCode.usage)
    expect(timeout.stderr).toContain('--timeout must be a number of seconds above 0, not "-1".')
  })

  it('exits 8 when there is no CA to trust, and 2 without a password and a terminal', async () => {
    const noCa = await fetchSecret(tempDir(), ['-u', 'a'], {env: password})
    expect(noCa.code).toBe(ExitCode.invalidSetup)
    expect(noCa.stderr).toMatch(/The CA file .*ca\.pem does not exist\./)
    const server = await startTestServer(tempDir())
    const noPassword = await fetchSecret(tempDir(), [
      '--url',
      server.url,
      '--ca',
      server.tls.authority!.file,
      '-u',
      'a',
    ])
    expect(noPassword.code).toBe(ExitCode.usage)
    expect(noPassword.stderr).toContain('--password-stdin')
  })

  it('keeps the exit code with --json and prints the error as JSON', async () => {
    const server = await startTestServer(tempDir())
    const result = await fetchSecret(
      tempDir(),
      ['--url', server.url, '--ca', server.tls.authority!.file, '-u', 'x', '--json'],
      {env: password},
    )
    expect(result.code).toBe(ExitCode.credentialsRejected)
    expect(JSON.parse(result.stdout)).toEqual({
      error: {
        code: 4,
        message: 'The server rejected the credentials for x.',
        suggestions: [expect.stringContaining(`${cliCommand} passwd`)],
      },
    })
  })
})

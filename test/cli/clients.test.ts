import {existsSync, readFileSync, rmSync, statSync, writeFileSync} from 'node:fs'
import path from 'node:path'

import {describe, expect, it} from 'vitest'

import type {ClientsReport} from '../../src/web/control.js'
import {cliCommand, initConfig, runCli, serveArgs, urlPattern, useCli} from '../helpers/cli.js'
import {useConfigCopies} from '../helpers/config-copies.js'
import {request} from '../helpers/https.js'
import {useTempDir} from '../helpers/temp.js'

const tempDir = useTempDir()
const startCli = useCli()
const user = {username: 'JeffLynne', password: 'Livin Thing'}
const wrong = {username: user.username, password: 'Evil Woman'}

const initialised = useConfigCopies((configDir) => initConfig(configDir, user))

/** `serve` from `configDir` with 3 failures to a lockout; its URL and the CA to trust. */
async function serving(configDir: string) {
  const cli = startCli(serveArgs(configDir, '--max-failures', '3'))
  const [url] = await cli.waitFor(urlPattern)
  return {cli, url: `${url!}api/secret`, ca: readFileSync(path.join(configDir, 'ca.pem'), 'utf8')}
}

const socketOf = (configDir: string) => path.join(configDir, 'control.sock')

describe('homeauth status --clients and unlock', () => {
  it('shows a client locked out by wrong logins over HTTPS and the last sign-ins, and unlock lets it in at once', async () => {
    const configDir = initialised()
    const server = await serving(configDir)
    const from = (localAddress: string, auth: typeof user) =>
      request(server.url, {ca: server.ca, auth, localAddress}).then((response) => response.status)
    expect(await from('127.0.0.3', user)).toBe(200)
    for (let attempt = 0; attempt < 3; attempt++) expect(await from('127.0.0.2', wrong)).toBe(401)
    expect(await from('127.0.0.2', user)).toBe(429)

    const text = await runCli(['status', '--clients', '--config-dir', configDir])
    expect(text.code, text.stderr).toBe(0)
    expect(text.stdout).toMatch(
      /^Locked out for failed logins \(1\):\n {2}127\.0\.0\.2: since \S+Z, until \S+Z \((?:1m|\d+s) left\), after 3 failures\n/,
    )
    expect(text.stdout).toContain(
      `Let one in at once with: ${cliCommand} unlock ADDRESS --config-dir ${configDir}`,
    )
    expect(text.stdout).toMatch(/\nLast sign-ins:\n {2}JeffLynne {2}\S+Z {2}from 127\.0\.0\.3\n$/)

    const json = await runCli(['status', '--clients', '--json', '--config-dir', configDir])
    expect(json.code).toBe(0)
    const report = JSON.parse(json.stdout) as ClientsReport
    expect(report).toEqual({
      lockedOut: [
        {
          client: '127.0.0.2',
          kind: 'address',
          since: expect.stringMatching(/Z$/),
          until: expect.stringMatching(/Z$/),
          failures: 3,
          lockouts: 1,
        },
      ],
      signIns: [{user: user.username, address: '127.0.0.3', at: expect.stringMatching(/Z$/)}],
    })

    const unlocked = await runCli(['unlock', '127.0.0.2', '--config-dir', configDir])
    expect(unlocked.code, unlocked.stderr).toBe(0)
    expect(unlocked.stdout).toBe('Unlocked 127.0.0.2: it may sign in again at once.\n')
    expect(await from('127.0.0.2', user)).toBe(200)

    const again = await runCli(['unlock', '::ffff:127.0.0.2', '--json', '--config-dir', configDir])
    expect(again.code).toBe(0)
    expect(JSON.parse(again.stdout)).toEqual({client: '127.0.0.2', unlocked: false, lockedPrefix: null})
    const unknown = await runCli(['unlock', '192.0.2.44', '--config-dir', configDir])
    expect(unknown.code).toBe(0)
    expect(unknown.stdout).toBe('Nothing was locked out for 192.0.2.44.\n')

    const after = await runCli(['status', '--clients', '--config-dir', configDir])
    expect(after.stdout).toMatch(
      /^Nobody is locked out\.\n\nLast sign-ins:\n {2}JeffLynne {2}\S+ {2}from 127\.0\.0\.2\n/,
    )
  })

  it('says nobody has signed in and nobody is locked out on a fresh server', async () => {
    const configDir = initialised()
    await serving(configDir)
    const result = await runCli(['status', '--clients', '--config-dir', configDir])
    expect(result.code).toBe(0)
    expect(result.stdout).toBe('Nobody is locked out.\n\nNobody has signed in since the server started.\n')
  })

  it('refuses an argument that is no address or IPv6 prefix in one line, exit 2, before asking any server', async () => {
    const configDir = tempDir()
    for (const bad of ['router.lan', '10.0.0.0/8', '192.0.2.300', 'fd00::/129']) {
      const result = await runCli(['unlock', bad, '--config-dir', configDir])
      expect(result.code, bad).toBe(2)
      expect(result.stderr.split('\n')[0]).toBe(
        `Error: "${bad}" is not an IPv4 or IPv6 address or an IPv6 prefix.`,
      )
    }
    const json = await runCli(['unlock', 'router.lan', '--json', '--config-dir', configDir])
    expect(json.code).toBe(2)
    expect(JSON.parse(json.stdout)).toMatchObject({error: {code: 2}})
    const missing = await runCli(['unlock', '--config-dir', configDir])
    expect(missing.code).toBe(2)
    expect(missing.stderr).toContain('Missing 1 required arg')
  })

  it('exits 3 when no server runs, in text and JSON', async () => {
    const configDir = initialised()
    for (const args of [
      ['status', '--clients'],
      ['unlock', '192.0.2.1'],
    ]) {
      const text = await runCli([...args, '--config-dir', configDir])
      expect(text.code, args.join(' ')).toBe(3)
      expect(text.stderr).toContain('Error: homeauth is not running.')
      const json = await runCli([...args, '--json', '--config-dir', configDir])
      expect(json.code).toBe(3)
      expect(JSON.parse(json.stdout)).toMatchObject({error: {code: 3, message: 'homeauth is not running.'}})
    }
  })

  it('says a running server is too old to have a control channel, exit 3', async () => {
    const configDir = initialised()
    await serving(configDir)
    const stateFile = path.join(configDir, 'state.json')
    const {control, ...olderState} = JSON.parse(readFileSync(stateFile, 'utf8')) as {control: string}
    expect(control).toBe(socketOf(configDir))
    writeFileSync(stateFile, JSON.stringify(olderState))
    const result = await runCli(['status', '--clients', '--config-dir', configDir])
    expect(result.code).toBe(3)
    expect(result.stderr).toMatch(
      /^Error: The running server \(PID \d+\) was started by an older homeauth, which has no control channel to ask who is locked out\.\n {2}Try: Restart it with this version, then ask again\.\n$/,
    )
  })

  it('says when the running server does not answer on its control socket, exit 3', async () => {
    const configDir = initialised()
    await serving(configDir)
    rmSync(socketOf(configDir))
    const result = await runCli(['unlock', '192.0.2.1', '--config-dir', configDir])
    expect(result.code).toBe(3)
    expect(result.stderr.split('\n')[0]).toMatch(
      /^Error: Cannot reach the running server \(PID \d+\) on \S+control\.sock: ENOENT\.$/,
    )
  })

  it('replaces the socket a killed server left, and stop removes it', async () => {
    const configDir = initialised()
    const killed = await serving(configDir)
    killed.cli.child.kill('SIGKILL')
    await killed.cli.exited
    expect(statSync(socketOf(configDir)).isSocket()).toBe(true)
    expect((await runCli(['status', '--clients', '--config-dir', configDir])).code).toBe(3)

    await serving(configDir)
    expect((await runCli(['status', '--clients', '--config-dir', configDir])).code).toBe(0)
    const stopped = await runCli(['stop', '--config-dir', configDir])
    expect(stopped.code).toBe(0)
    expect(existsSync(socketOf(configDir))).toBe(false)
  })
})

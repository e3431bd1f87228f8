import {spawnSync} from 'node:child_process'
import {readFileSync, readdirSync} from 'node:fs'
import path from 'node:path'
import {stripVTControlCharacters} from 'node:util'

import {describe, expect, it} from 'vitest'

import {devicePasswordHash} from '../../src/credentials/devices.js'
import {ExitCode} from '../../src/errors.js'
import {halfBlockLines, qrModules} from '../../src/ui/qr.js'
import {runCli, serveArgs, urlPattern, useCli, type CliProcess} from '../helpers/cli.js'
import {modeOf, readTree} from '../helpers/files.js'
import {request} from '../helpers/https.js'
import {runInTerminal} from '../helpers/terminal.js'
import {addUser, bev, jeff, storedConfig, useInitialisedForJeff} from '../helpers/users.js'

const startCli = useCli()
const initialised = useInitialisedForJeff()

const devicePattern = /^[a-hjkmnp-z2-9]{4}(-[a-hjkmnp-z2-9]{4}){6}$/

interface AddedJson {
  name: string
  user: string
  password: string
  createdAt: string
}

async function addDevice(configDir: string, name: string, ...extra: string[]): Promise<AddedJson> {
  const result = await runCli(['device', 'add', name, '--config-dir', configDir, '--json', ...extra])
  expect(result.code, result.stderr).toBe(0)
  return JSON.parse(result.stdout) as AddedJson
}

async function listDevices(configDir: string) {
  const result = await runCli(['device', 'list', '--config-dir', configDir, '--json'])
  expect(result.code, result.stderr).toBe(0)
  return (
    JSON.parse(result.stdout) as {
      devices: {
        name: string
        user: string
        createdAt: string
        lastSeen: {at: string; address: string} | null
      }[]
    }
  ).devices
}

describe('homeauth device add, list and revoke', () => {
  it('adds a device for the only user, prints its password once, keeps only a keyed hash, and revokes it', async () => {
    const configDir = initialised()
    const added = await runCli(['device', 'add', 'bev-phone', '--config-dir', configDir])
    expect(added.code, added.stderr).toBe(0)
    const password = added.stdout.trim()
    expect(password).toMatch(devicePattern)
    expect(added.stderr).toContain(`Device bev-phone added for ${jeff.username}`)
    expect(added.stderr).toContain('No server is running')

    const [device] = storedConfig(configDir).devices!
    const key = readFileSync(path.join(configDir, 'device-key'), 'utf8').trim()
    expect(device).toEqual({
      name: 'bev-phone',
      user: jeff.username,
      createdAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
      passwordHash: devicePasswordHash(key, password),
    })
    expect(modeOf(path.join(configDir, 'device-key'))).toBe(0o600)
    expect(modeOf(path.join(configDir, 'config.json'))).toBe(0o600)
    // The password is nowhere on disk; the key is not in config.json.
    for (const [file, bytes] of Object.entries(readTree(configDir))) {
      expect(bytes.toString('utf8'), file).not.toContain(password)
      if (file.endsWith('config.json')) expect(bytes.toString('utf8')).not.toContain(key)
    }

    const text = await runCli(['device', 'list', '--config-dir', configDir])
    expect(text.stdout).toMatch(
      /^DEVICE\s+USER\s+ADDED\s+LAST SIGN-IN\nbev-phone\s+JeffLynne\s+\S+\s+never\n$/,
    )
    expect(await listDevices(configDir)).toEqual([
      {name: 'bev-phone', user: jeff.username, createdAt: device!.createdAt, lastSeen: null},
    ])
    expect(text.stdout).not.toContain('hmac')

    const revoked = await runCli(['device', 'revoke', 'bev-phone', '--config-dir', configDir])
    expect(revoked.code).toBe(0)
    expect(revoked.stdout).toContain('Device bev-phone revoked')
    expect(storedConfig(configDir).devices).toEqual([])
    expect(await listDevices(configDir)).toEqual([])
  })

  it('--json prints {name, user, password, createdAt}; --username picks the user when there are several', async () => {
    const configDir = initialised()
    expect((await addUser(configDir, bev.username, bev.password)).code).toBe(0)
    const added = await addDevice(configDir, 'tablet', '--username', bev.username)
    expect(Object.keys(added)).toEqual(['name', 'user', 'password', 'createdAt'])
    expect(added).toMatchObject({name: 'tablet', user: bev.username})
    expect(added.password).toMatch(devicePattern)
    expect(storedConfig(configDir).devices![0]!.createdAt).toBe(added.createdAt)
  })

  describe('refuses bad input in one line with the table’s exit code, leaving every file as it was', () => {
    const refusals: [string, (configDir: string) => Promise<unknown>, string[], number, RegExp][] = [
      [
        'a bad device name',
        async () => {},
        ['device', 'add', 'Bev phone!'],
        ExitCode.usage,
        /not a device name/,
      ],
      [
        'a name in use',
        (dir) => addDevice(dir, 'phone'),
        ['device', 'add', 'phone'],
        ExitCode.usage,
        /already a device named "phone"/,
      ],
      [
        'an unknown user',
        async () => {},
        ['device', 'add', 'phone', '--username', 'Roy'],
        ExitCode.usage,
        /no user named "Roy"/,
      ],
      [
        'several users and no --username',
        (dir) => addUser(dir, bev.username, bev.password),
        ['device', 'add', 'phone'],
        ExitCode.usage,
        /Say which user the device signs in as \(users: JeffLynne, Bev\)/,
      ],
      [
        'an unknown device to revoke',
        (dir) => addDevice(dir, 'phone'),
        ['device', 'revoke', 'tablet'],
        ExitCode.usage,
        /no device named "tablet" \(devices: phone\)/,
      ],
    ]
    for (const [what, prepare, args, code, message] of refusals) {
      it(what, async () => {
        const configDir = initialised()
        await prepare(configDir)
        const before = readTree(configDir)
        const result = await runCli([...args, '--config-dir', configDir])
        expect(result.code).toBe(code)
        const errors = result.stderr.split('\n').filter((line) => line.startsWith('Error:'))
        expect(errors).toHaveLength(1)
        expect(errors[0]).toMatch(message)
        expect(readTree(configDir)).toEqual(before)
      })
    }

    it('exits 8 when homeauth is not initialised, as JSON with --json', async () => {
      const configDir = path.join(initialised(), 'nothing-here')
      const result = await runCli(['device', 'add', 'phone', '--config-dir', configDir, '--json'])
      expect(result.code).toBe(ExitCode.invalidSetup)
      expect(JSON.parse(result.stdout)).toMatchObject({error: {code: ExitCode.invalidSetup}})
    })
  })

  it('a re-run of init keeps the devices', async () => {
    const configDir = initialised()
    const phone = await addDevice(configDir, 'phone')
    const rerun = await runCli(
      [
        'init',
        '--config-dir',
        configDir,
        '-u',
        jeff.username,
        '--password-stdin',
        '--yes',
        '--force',
        '--no-qr',
      ],
      {input: `${jeff.password}\n`},
    )
    expect(rerun.code, rerun.stderr).toBe(0)
    expect((await listDevices(configDir)).map((device) => device.createdAt)).toEqual([phone.createdAt])
  })

  it('removing a user removes their devices, and only theirs', async () => {
    const configDir = initialised()
    expect((await addUser(configDir, bev.username, bev.password)).code).toBe(0)
    await addDevice(configDir, 'bev-phone', '--username', bev.username)
    await addDevice(configDir, 'jeff-phone', '--username', jeff.username)
    const removed = await runCli(['user', 'remove', bev.username, '--config-dir', configDir, '--yes'])
    expect(removed.code).toBe(0)
    expect((await listDevices(configDir)).map((device) => device.name)).toEqual(['jeff-phone'])
  })
})

const hasScript = spawnSync('script', ['--version']).status === 0

describe.skipIf(!hasScript)('device add at a terminal', () => {
  it('shows the password also as a QR code of its text', async () => {
    const configDir = initialised()
    const session = await runInTerminal(['device', 'add', 'phone', '--config-dir', configDir], [])
    expect(session.code).toBe(0)
    const lines = stripVTControlCharacters(session.output).split(/\r?\n/)
    const password = lines.find((line) => devicePattern.test(line))!
    expect(password).toBeDefined()
    const code = lines.filter((line) => /^[ ▀▄█]+$/.test(line))
    expect(code).toEqual(halfBlockLines(qrModules(password)))
    expect(session.output).toContain('Scan it with the phone')
  })
})

describe('a device signing in to a running server', () => {
  const ca = (configDir: string) => readFileSync(path.join(configDir, 'ca.pem'), 'utf8')

  async function serve(configDir: string, ...extra: string[]): Promise<{server: CliProcess; url: string}> {
    const server = startCli(serveArgs(configDir, ...extra))
    const [url] = await server.waitFor(urlPattern)
    return {server, url}
  }

  async function stop(server: CliProcess): Promise<void> {
    server.child.kill('SIGTERM')
    expect((await server.exited).code).toBe(0)
  }

  it('signs in as its user on /, /api/secret and /auth, named in the page and the access log; revoked, it gets 401 at once', async () => {
    const configDir = initialised()
    const {server, url} = await serve(configDir)
    // Added while the server runs: it is told to reload.
    const phone = await addDevice(configDir, 'phone')
    const tablet = await addDevice(configDir, 'tablet')
    const asPhone = {ca: ca(configDir), auth: {username: jeff.username, password: phone.password}}
    const asTablet = {ca: ca(configDir), auth: {username: jeff.username, password: tablet.password}}
    const asJeff = {ca: ca(configDir), auth: jeff}

    const secret = await request(`${url}api/secret`, asPhone)
    expect(secret.status).toBe(200)
    const page = await request(url, asPhone)
    expect(page.status).toBe(200)
    expect(page.body).toContain(
      `<strong id="user">${jeff.username}</strong> on the device <strong id="device">phone</strong>`,
    )
    const auth = await request(`${url}auth`, asPhone)
    expect(auth.status).toBe(200)
    expect(auth.headers['remote-user']).toBe(jeff.username)
    // Only as its own user.
    expect(
      (await request(`${url}api/secret`, {...asPhone, auth: {...asPhone.auth, username: 'Bev'}})).status,
    ).toBe(401)
    await server.waitFor(/GET \/api\/secret 200 \S+ JeffLynne \(device phone\)/)
    const clients = await runCli(['status', '--clients', '--json', '--config-dir', configDir])
    expect(JSON.parse(clients.stdout).signIns).toContainEqual(
      expect.objectContaining({user: jeff.username, device: 'phone', address: '127.0.0.1'}),
    )
    const shown = await runCli(['status', '--clients', '--config-dir', configDir])
    expect(shown.stdout).toMatch(/JeffLynne \(device phone\) +\S+ +from 127\.0\.0\.1/)

    const revoked = await runCli(['device', 'revoke', 'phone', '--config-dir', configDir])
    expect(revoked.code).toBe(0)
    expect(revoked.stderr).toContain('was told to reload')
    await server.waitFor(/credentials read again/)
    expect((await request(`${url}api/secret`, asPhone)).status).toBe(401)
    expect((await request(`${url}auth`, asPhone)).status).toBe(401)
    expect((await request(`${url}api/secret`, asTablet)).status).toBe(200)
    expect((await request(`${url}api/secret`, asJeff)).status).toBe(200)
    const jeffsPage = await request(url, asJeff)
    expect(jeffsPage.body).toContain(`<strong id="user">${jeff.username}</strong></p>`)
    await stop(server)
  })

  it('is admitted while its address is locked out by wrong guesses; a wrong device password counts as a failure', async () => {
    const configDir = initialised()
    const phone = await addDevice(configDir, 'phone')
    const {server, url} = await serve(configDir, '--max-failures', '2', '--lockout', '600')
    const asPhone = {ca: ca(configDir), auth: {username: jeff.username, password: phone.password}}
    const guess = (password: string) =>
      request(`${url}api/secret`, {ca: ca(configDir), auth: {username: jeff.username, password}})

    // One wrong password, then a wrong device password: two failures, the limit.
    expect((await guess('Livin Thing?')).status).toBe(401)
    expect((await guess(phone.password.replace(/^./, (first) => (first === 'a' ? 'b' : 'a')))).status).toBe(
      401,
    )
    // Locked out: even the user's own right password gets 429, and learns nothing.
    expect((await guess(jeff.password)).status).toBe(429)
    expect((await guess('Livin Thing!')).status).toBe(429)
    // The device is never locked out, on every route.
    expect((await request(`${url}api/secret`, asPhone)).status).toBe(200)
    expect((await request(`${url}auth`, asPhone)).status).toBe(200)
    // Its sign-in does not lift the lockout for the guesser on the same address.
    expect((await guess(jeff.password)).status).toBe(429)
    await stop(server)
  })

  it('records when and from where each device last signed in, in devices-seen.json, kept across a restart', async () => {
    const configDir = initialised()
    const phone = await addDevice(configDir, 'phone')
    const tablet = await addDevice(configDir, 'tablet')
    const first = await serve(configDir)
    const before = Date.now()
    const asDevice = (password: string) => ({ca: ca(configDir), auth: {username: jeff.username, password}})
    expect((await request(`${first.url}api/secret`, asDevice(phone.password))).status).toBe(200)
    // Not written per request: config.json is never touched by a sign-in.
    const config = readFileSync(path.join(configDir, 'config.json'), 'utf8')
    await stop(first.server)
    expect(readFileSync(path.join(configDir, 'config.json'), 'utf8')).toBe(config)
    expect(modeOf(path.join(configDir, 'devices-seen.json'))).toBe(0o600)
    expect(readdirSync(configDir).filter((name) => name.includes('devices-seen'))).toEqual([
      'devices-seen.json',
    ])

    const afterFirst = await listDevices(configDir)
    expect(afterFirst[0]!.lastSeen).toEqual({at: expect.any(String), address: '127.0.0.1'})
    expect(Date.parse(afterFirst[0]!.lastSeen!.at)).toBeGreaterThanOrEqual(before - 1000)
    expect(afterFirst[1]!.lastSeen).toBeNull()
    const text = await runCli(['device', 'list', '--config-dir', configDir])
    expect(text.stdout).toMatch(/^phone\s+JeffLynne\s+\S+\s+\S+ from 127\.0\.0\.1$/m)
    expect(text.stdout).not.toContain(phone.password)

    const second = await serve(configDir)
    expect((await request(`${second.url}api/secret`, asDevice(tablet.password))).status).toBe(200)
    await stop(second.server)
    const afterSecond = await listDevices(configDir)
    expect(afterSecond[0]!.lastSeen).toEqual(afterFirst[0]!.lastSeen)
    expect(afterSecond[1]!.lastSeen?.address).toBe('127.0.0.1')
    // The seen file holds no secret.
    const seen = readFileSync(path.join(configDir, 'devices-seen.json'), 'utf8')
    expect(seen).not.toContain(phone.password)
    expect(seen).not.toContain('hmac')
  })
})

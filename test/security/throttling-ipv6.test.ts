import {execFile, spawn} from 'node:child_process'
import path from 'node:path'
import {promisify} from 'node:util'

import {afterEach, describe, expect, it} from 'vitest'

import {CliProcess, cleanEnv, projectDir, runJs} from '../helpers/cli.js'
import {NetworkNamespace} from '../helpers/netns.js'
import {useTempDir} from '../helpers/temp.js'

const run = promisify(execFile)
const tempDir = useTempDir()
const user = {username: 'bob', password: 'the right one'}
const wrong = {username: 'bob', password: 'a guess'}

/** The home's LAN, fd00:1::/64: the server at fd00:1::1, a tablet and a phone beside it. */
const server = 'fd00:1::1'
const tablet = 'fd00:1::10'
const phone = 'fd00:1::11'
/** Addresses a guesser on the LAN rotates through. */
const rotation = Array.from({length: 9}, (_, index) => `fd00:1::${(0x100 + index).toString(16)}`)

const namespaces: NetworkNamespace[] = []
const servers: CliProcess[] = []

afterEach(async () => {
  for (const serving of servers.splice(0)) {
    serving.child.kill('SIGKILL')
    await serving.exited
  }
  for (const namespace of namespaces.splice(0)) namespace.remove()
})

/** A namespace with the LAN fd00:1::/64 on `lan0`: the server's address, the tablet's, the phone's, the rotator's. */
function home(): NetworkNamespace {
  const namespace = NetworkNamespace.create()
  namespaces.push(namespace)
  namespace.addLan(
    'lan0',
    [server, tablet, phone, ...rotation].map((address) => `${address}/64`),
  )
  return namespace
}

/**
 * A second namespace beyond a router: joined to `lan` by a veth pair on fd00:2::/64, with clients at
 * fd00:3::5 and fd00:3::6, one /64 that is none of the server's prefixes.
 */
function outsideOf(lan: NetworkNamespace): NetworkNamespace {
  const outside = NetworkNamespace.create()
  namespaces.push(outside)
  lan.ip('link', 'add', 'wan0', 'type', 'veth', 'peer', 'name', 'wan0-peer')
  lan.ip('link', 'set', 'wan0-peer', 'netns', outside.name)
  lan.ip('link', 'set', 'wan0', 'up')
  lan.addAddress('wan0', 'fd00:2::1/64')
  lan.ip('-6', 'route', 'add', 'fd00:3::/64', 'via', 'fd00:2::2')
  outside.ip('link', 'set', 'wan0-peer', 'up')
  outside.addAddress('wan0-peer', 'fd00:2::2/64')
  outside.addAddress('lo', 'fd00:3::5/128')
  outside.addAddress('lo', 'fd00:3::6/128')
  outside.ip('-6', 'route', 'add', 'fd00:1::/64', 'via', 'fd00:2::1')
  return outside
}

/** `homeauth serve` inside `namespace`, on all interfaces; its URL at the server's LAN address. */
async function serveIn(namespace: NetworkNamespace, ...extra: string[]) {
  const configDir = tempDir()
  const child = spawn(
    namespace.prefix[0]!,
    [
      ...namespace.prefix.slice(1),
      process.execPath,
      runJs,
      'serve',
      '--config-dir',
      configDir,
      '--host',
      '::',
      '--port',
      '0',
      '--no-qr',
      ...extra,
    ],
    {
      cwd: projectDir,
      env: cleanEnv({HOMEAUTH_USERNAME: user.username, HOMEAUTH_PASSWORD: user.password}),
      stdio: 'pipe',
    },
  )
  const serving = new CliProcess(child)
  servers.push(serving)
  await serving.waitFor(/Press Ctrl\+C to stop/, 20_000)
  const [, port] = await serving.waitFor(/https:\/\/\[fd00:1::1\]:(\d+)\//)
  return {serving, url: `https://[${server}]:${port}/api/secret`, ca: path.join(configDir, 'ca.pem')}
}

/** The status a device at `from` inside `namespace` gets from curl, trusting only the CA. */
async function statusFrom(
  namespace: NetworkNamespace,
  from: string,
  target: {url: string; ca: string},
  credentials: {username: string; password: string},
): Promise<number> {
  const [command, ...args] = namespace.prefix
  const {stdout} = await run(command!, [
    ...args,
    'curl',
    '--silent',
    '--output',
    '/dev/null',
    '--write-out',
    '%{http_code}',
    '--cacert',
    target.ca,
    '--interface',
    from,
    '--user',
    `${credentials.username}:${credentials.password}`,
    target.url,
  ])
  return Number(stdout)
}

// CI runs as root, where namespaces can be made: there the test must run, not be skipped.
describe.skipIf(!NetworkNamespace.available && !process.env.CI)('failed logins on an IPv6 home LAN', () => {
  it('locks out a tablet that guessed wrong, and still lets the phone beside it sign in', async () => {
    const lan = home()
    const target = await serveIn(lan)
    const tablet6: number[] = []
    for (let guess = 0; guess < 6; guess++) tablet6.push(await statusFrom(lan, tablet, target, wrong))
    expect(tablet6).toEqual([401, 401, 401, 401, 401, 429])
    expect(await statusFrom(lan, tablet, target, user)).toBe(429)
    expect(await statusFrom(lan, phone, target, user)).toBe(200)
    expect(target.serving.stderr).toContain(
      `failed login from ${tablet} as user "bob": locked out for 60 s (5 from the LAN prefix fd00:1::/64)`,
    )
  }, 60_000)

  it('locks out the whole LAN prefix, the phone too, once a guesser rotating addresses spends its budget', async () => {
    const lan = home()
    const target = await serveIn(lan, '--max-failures', '2')
    const guesses: number[] = []
    for (const address of rotation.slice(0, 8)) guesses.push(await statusFrom(lan, address, target, wrong))
    expect(guesses).toEqual(Array(8).fill(401))
    expect(await statusFrom(lan, rotation[8]!, target, wrong)).toBe(429)
    expect(await statusFrom(lan, phone, target, user)).toBe(429)
    expect(target.serving.stderr).toContain(
      `failed login from ${rotation[7]} as user "bob": 1 failure(s) in the window; the whole LAN prefix fd00:1::/64 locked out for 60 s`,
    )
  }, 60_000)

  it('counts a client beyond a router per /64, as before, without locking out the LAN', async () => {
    const lan = home()
    const outside = outsideOf(lan)
    const target = await serveIn(lan, '--max-failures', '2')
    expect(await statusFrom(outside, 'fd00:3::5', target, wrong)).toBe(401)
    expect(await statusFrom(outside, 'fd00:3::5', target, wrong)).toBe(401)
    expect(await statusFrom(outside, 'fd00:3::6', target, user)).toBe(429)
    expect(await statusFrom(lan, phone, target, user)).toBe(200)
    expect(target.serving.stderr).toContain(
      'failed login from fd00:3::5 as user "bob": locked out for 60 s\n',
    )
  }, 60_000)
})

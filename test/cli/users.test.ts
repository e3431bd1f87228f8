import {readFileSync} from 'node:fs'
import path from 'node:path'

import {describe, expect, it} from 'vitest'

import {parseConfig, type HomeauthConfig} from '../../src/config/config.js'
import {withConfigLock} from '../../src/config/files.js'
import {hashPassword, verifyPassword} from '../../src/credentials/hash.js'
import {ExitCode} from '../../src/errors.js'
import {cliCommand, initConfig, runCli, serveArgs, urlPattern, useCli} from '../helpers/cli.js'
import {useConfigCopies} from '../helpers/config-copies.js'
import {readPublicFiles} from '../helpers/files.js'
import {request} from '../helpers/https.js'
import {useTempDir} from '../helpers/temp.js'
import {runInTerminal} from '../helpers/terminal.js'
import {cheapHashParams} from '../helpers/hashes.js'

const tempDir = useTempDir()
const startCli = useCli()
const jeff = {username: 'JeffLynne', password: 'Livin Thing'}
const bev = {username: 'Bev', password: 'Bevan on cello'}

const initialised = useConfigCopies((configDir) => initConfig(configDir, jeff, '--no-qr'))

function storedConfig(configDir: string): HomeauthConfig {
  const file = path.join(configDir, 'config.json')
  return parseConfig(readFileSync(file, 'utf8'), file)
}

const rawConfig = (configDir: string) =>
  JSON.parse(readFileSync(path.join(configDir, 'config.json'), 'utf8')) as Record<string, unknown>

function addUser(configDir: string, name: string, password: string, ...extra: string[]) {
  return runCli(['user', 'add', name, '--config-dir', configDir, '--password-stdin', ...extra], {
    input: `${password}\n`,
  })
}

/** Writes config.json as homeauth before several users wrote it (version 1), under the lock as any writer would. */
async function writeVersionOne(configDir: string): Promise<string> {
  const versionOne = {
    version: 1,
    username: jeff.username,
    passwordHash: await hashPassword(jeff.password, cheapHashParams),
    secret: 'Evil Woman',
    port: 8443,
    host: null,
    sans: [],
  }
  const data = `${JSON.stringify(versionOne, null, 2)}\n`
  await withConfigLock(configDir, ({updateFileSet}) =>
    updateFileSet([{name: 'config.json', data, mode: 0o600}]),
  )
  return data
}

describe('homeauth user add, list and remove', () => {
  it('adds a user with a hash of their own, lists both without hashes, and removes one', async () => {
    const configDir = initialised()
    const added = await addUser(configDir, bev.username, bev.password)
    expect(added.code).toBe(0)
    expect(added.stdout).toContain('User Bev added')
    expect(added.stderr).toContain('No server is running')

    const config = storedConfig(configDir)
    expect(config.users.map((user) => user.name)).toEqual(['JeffLynne', 'Bev'])
    expect(await verifyPassword(bev.password, config.users[1]!.passwordHash)).toBe(true)
    expect(await verifyPassword(jeff.password, config.users[0]!.passwordHash)).toBe(true)
    expect(Date.parse(config.users[1]!.passwordSetAt!)).toBeGreaterThan(Date.now() - 60_000)

    const listed = await runCli(['user', 'list', '--config-dir', configDir, '--json'])
    expect(listed.code).toBe(0)
    expect(JSON.parse(listed.stdout)).toEqual({
      users: config.users.map(({name, passwordSetAt}) => ({name, passwordSetAt})),
    })
    const text = await runCli(['user', 'list', '--config-dir', configDir])
    expect(text.stdout.split('\n')[0]).toMatch(/^USER\s+PASSWORD SET$/)
    expect(text.stdout).toMatch(/^Bev\s+\d{4}-\d\d-\d\dT/m)
    for (const output of [listed.stdout, text.stdout]) expect(output).not.toContain('$scrypt')

    const removed = await runCli(['user', 'remove', bev.username, '--config-dir', configDir, '--yes'])
    expect(removed.code).toBe(0)
    expect(removed.stdout).toContain('User Bev removed')
    expect(storedConfig(configDir).users).toEqual([config.users[0]])
  })

  it('takes the password from HOMEAUTH_PASSWORD', async () => {
    const configDir = initialised()
    const result = await runCli(['user', 'add', 'Richard', '--config-dir', configDir], {
      env: {HOMEAUTH_PASSWORD: 'Tandy on keys'},
    })
    expect(result.code).toBe(0)
    const richard = storedConfig(configDir).users[1]!
    expect(await verifyPassword('Tandy on keys', richard.passwordHash)).toBe(true)
  })

  it('treats a name typed in two Unicode forms as one user', async () => {
    const configDir = initialised()
    expect((await addUser(configDir, 'José'.normalize('NFD'), bev.password)).code).toBe(0)
    expect(storedConfig(configDir).users[1]!.name).toBe('José'.normalize('NFC'))
    const again = await addUser(configDir, 'José'.normalize('NFC'), bev.password)
    expect(again.code).toBe(ExitCode.usage)
    expect(again.stderr).toContain('There is already a user named "José"')
    const server = startCli(serveArgs(configDir))
    const [url] = await server.waitFor(urlPattern)
    const ca = readFileSync(path.join(configDir, 'ca.pem'), 'utf8')
    const nfd = {username: 'José'.normalize('NFD'), password: bev.password}
    expect((await request(`${url}api/secret`, {ca, auth: nfd})).status).toBe(200)
    const removed = await runCli([
      'user',
      'remove',
      'José'.normalize('NFD'),
      '--config-dir',
      configDir,
      '--yes',
    ])
    expect(removed.code).toBe(0)
    expect(storedConfig(configDir).users.map((user) => user.name)).toEqual(['JeffLynne'])
  })

  describe('refuses bad input with the table’s exit code, leaving every file as it was', () => {
    const refusals: [string, (configDir: string) => ReturnType<typeof runCli>, number, RegExp][] = [
      [
        'a name in use',
        (dir) => addUser(dir, jeff.username, bev.password),
        ExitCode.usage,
        /already a user named "JeffLynne".*\n.*passwd --username JeffLynne/,
      ],
      ['a name with ":"', (dir) => addUser(dir, 'Bev:Bevan', bev.password), ExitCode.usage, /contains ":"/],
      [
        'a name with a control character',
        (dir) => addUser(dir, 'Bev\u0007', bev.password),
        ExitCode.usage,
        /control character/,
      ],
      [
        'a short password',
        (dir) => addUser(dir, bev.username, 'ELO'),
        ExitCode.usage,
        /shorter than 8 characters/,
      ],
      [
        'no password and no terminal',
        (dir) => runCli(['user', 'add', bev.username, '--config-dir', dir]),
        ExitCode.usage,
        /--password-stdin/,
      ],
      [
        'removing an unknown user',
        (dir) => runCli(['user', 'remove', bev.username, '--config-dir', dir, '--yes']),
        ExitCode.usage,
        /There is no user named "Bev" \(users: JeffLynne\)/,
      ],
      [
        'removing the last user',
        (dir) => runCli(['user', 'remove', jeff.username, '--config-dir', dir, '--yes']),
        ExitCode.usage,
        /"JeffLynne" is the only user.*\n.*user add NAME/,
      ],
      [
        'removing without --yes and no terminal',
        (dir) => runCli(['user', 'remove', jeff.username, '--config-dir', dir]),
        ExitCode.usage,
        /--yes/,
      ],
    ]
    for (const [what, run, code, message] of refusals) {
      it(what, async () => {
        const configDir = initialised()
        const before = readPublicFiles(configDir)
        const result = await run(configDir)
        expect(result.code).toBe(code)
        expect(result.stderr).toMatch(message)
        expect(result.stderr).not.toMatch(/\n\s+at /)
        expect(readPublicFiles(configDir)).toEqual(before)
      })
    }

    it('a short password, with --allow-short-password, is stored', async () => {
      const configDir = initialised()
      const added = await addUser(configDir, bev.username, 'ELO', '--allow-short-password')
      expect(added.code, added.stderr).toBe(0)
      const [first, second] = storedConfig(configDir).users
      expect(first!.name).toBe(jeff.username)
      expect(second!.name).toBe(bev.username)
      expect(await verifyPassword('ELO', second!.passwordHash)).toBe(true)
    })

    it('exits 8 when homeauth is not initialised, as JSON with --json', async () => {
      const configDir = tempDir()
      const added = await addUser(configDir, bev.username, bev.password)
      expect(added.code).toBe(ExitCode.invalidSetup)
      expect(added.stderr).toContain(`Run: ${cliCommand} init`)
      const listed = await runCli(['user', 'list', '--config-dir', configDir, '--json'])
      expect(listed.code).toBe(ExitCode.invalidSetup)
      expect(JSON.parse(listed.stdout)).toMatchObject({
        error: {code: 8, message: expect.stringContaining('not initialised')},
      })
    })
  })
})

describe('a config.json written before several users (version 1)', () => {
  it('is read as it is, and written as version 2 by the next change, keeping the user', async () => {
    const configDir = initialised()
    const versionOne = await writeVersionOne(configDir)
    const listed = await runCli(['user', 'list', '--config-dir', configDir, '--json'])
    expect(JSON.parse(listed.stdout)).toEqual({users: [{name: jeff.username, passwordSetAt: null}]})
    const text = await runCli(['user', 'list', '--config-dir', configDir])
    expect(text.stdout).toMatch(/^JeffLynne\s+unknown/m)
    expect(readFileSync(path.join(configDir, 'config.json'), 'utf8')).toBe(versionOne)

    expect((await addUser(configDir, bev.username, bev.password)).code).toBe(0)
    const written = rawConfig(configDir)
    expect(written.version).toBe(2)
    expect(written).not.toHaveProperty('username')
    const [first, second] = storedConfig(configDir).users
    expect(first).toEqual({
      name: jeff.username,
      passwordHash: JSON.parse(versionOne).passwordHash,
      passwordSetAt: null,
    })
    expect(second!.name).toBe(bev.username)
  })

  it('is served with its one user', async () => {
    const configDir = initialised()
    await writeVersionOne(configDir)
    const server = startCli(serveArgs(configDir))
    const [url] = await server.waitFor(urlPattern)
    const ca = readFileSync(path.join(configDir, 'ca.pem'), 'utf8')
    expect((await request(`${url}api/secret`, {ca, auth: jeff})).status).toBe(200)
  })
})

describe('a config.json written by a newer homeauth', () => {
  it('is refused in one line with exit code 8 by every command, and never rewritten', async () => {
    const configDir = initialised()
    const newer = {...rawConfig(configDir), version: 3, groups: []}
    const data = `${JSON.stringify(newer)}\n`
    await withConfigLock(configDir, ({updateFileSet}) =>
      updateFileSet([{name: 'config.json', data, mode: 0o600}]),
    )
    const before = readPublicFiles(configDir)
    const results = await Promise.all([
      runCli(['user', 'list', '--config-dir', configDir]),
      addUser(configDir, bev.username, bev.password),
      runCli(['passwd', '--config-dir', configDir, '--password-stdin'], {input: 'Xanadu 1980\n'}),
      runCli(serveArgs(configDir)),
    ])
    for (const result of results) {
      expect(result.code).toBe(ExitCode.invalidSetup)
      const [line] = result.stderr.split('\n').filter((text) => text.startsWith('Error:'))
      expect(line).toMatch(
        /config\.json was written by a newer homeauth \(config version 3; this one reads up to 2\)\.$/,
      )
    }
    expect(readPublicFiles(configDir)).toEqual(before)
  })
})

describe('homeauth passwd with several users', () => {
  it('changes only the named user’s password', async () => {
    const configDir = initialised()
    expect((await addUser(configDir, bev.username, bev.password)).code).toBe(0)
    const before = storedConfig(configDir)
    const result = await runCli(
      ['passwd', '--config-dir', configDir, '--username', 'Bev', '--password-stdin'],
      {
        input: 'Xanadu 1980\n',
      },
    )
    expect(result.code).toBe(0)
    expect(result.stdout).toContain('Password for Bev changed')
    const after = storedConfig(configDir)
    expect(after.users[0]).toEqual(before.users[0])
    expect(await verifyPassword('Xanadu 1980', after.users[1]!.passwordHash)).toBe(true)
  })

  it('without --username and without a terminal, exits 2 naming the flag and the users', async () => {
    const configDir = initialised()
    expect((await addUser(configDir, bev.username, bev.password)).code).toBe(0)
    const before = readPublicFiles(configDir)
    const result = await runCli(['passwd', '--config-dir', configDir, '--password-stdin'], {
      input: 'Xanadu 1980\n',
    })
    expect(result.code).toBe(ExitCode.usage)
    expect(result.stderr).toContain('config.json holds 2 users; say whose password to change.')
    expect(result.stderr).toContain('Pass --username NAME (one of: JeffLynne, Bev).')
    expect(readPublicFiles(configDir)).toEqual(before)
  })
})

describe('at a terminal', () => {
  it('user add asks for the password twice, masked, until both entries match', async () => {
    const configDir = initialised()
    const session = await runInTerminal(
      ['user', 'add', bev.username, '--config-dir', configDir],
      [
        [/New password for Bev/, `${bev.password}\r`],
        [/The same password again/, 'something else\r'],
        [/New password for Bev/, `${bev.password}\r`],
        [/The same password again/, `${bev.password}\r`],
      ],
    )
    expect(session.code).toBe(0)
    expect(session.output).toContain('The two passwords differ')
    expect(session.output).toContain('User Bev added')
    expect(session.output).not.toContain(bev.password)
    expect(await verifyPassword(bev.password, storedConfig(configDir).users[1]!.passwordHash)).toBe(true)
  })

  it('user remove asks first: no keeps the user, yes removes them', async () => {
    const configDir = initialised()
    expect((await addUser(configDir, bev.username, bev.password)).code).toBe(0)
    const before = readPublicFiles(configDir)
    const kept = await runInTerminal(
      ['user', 'remove', bev.username, '--config-dir', configDir],
      [[/Remove user Bev\? They can no longer sign in\./, 'n\r']],
    )
    expect(kept.code).toBe(0)
    expect(kept.output).toContain('Nothing changed.')
    expect(readPublicFiles(configDir)).toEqual(before)
    const removed = await runInTerminal(
      ['user', 'remove', bev.username, '--config-dir', configDir],
      [[/Remove user Bev\?/, 'y\r']],
    )
    expect(removed.code).toBe(0)
    expect(removed.output).toContain('User Bev removed')
    expect(storedConfig(configDir).users.map((user) => user.name)).toEqual([jeff.username])
  })

  it('passwd asks whose password to change when there are several users', async () => {
    const configDir = initialised()
    expect((await addUser(configDir, bev.username, bev.password)).code).toBe(0)
    const session = await runInTerminal(
      ['passwd', '--config-dir', configDir],
      [
        [/Whose password\? \(JeffLynne, Bev\)/, 'Bev\r'],
        [/New password for Bev/, 'Xanadu 1980\r'],
        [/The same password again/, 'Xanadu 1980\r'],
      ],
    )
    expect(session.code).toBe(0)
    expect(session.output).toContain('Password for Bev changed')
    expect(await verifyPassword('Xanadu 1980', storedConfig(configDir).users[1]!.passwordHash)).toBe(true)
  })
})

describe('homeauth commands changing the users at the same time', () => {
  it('never lose a user, whatever else writes the config directory meanwhile', async () => {
    const configDir = initialised()
    const names = ['Bev', 'Richard']
    const results = await Promise.all([
      ...names.map((name) => addUser(configDir, name, `${name} password`)),
      runCli(['passwd', '--config-dir', configDir, '--password-stdin'], {input: 'Xanadu 1980\n'}),
      runCli(['cert', 'renew', '--config-dir', configDir, '--san', 'nas.home.arpa']),
    ])
    for (const result of results) expect(result.stderr).not.toMatch(/Error/)
    for (const result of results) expect(result.code).toBe(0)
    const config = storedConfig(configDir)
    expect(config.users.map((user) => user.name).sort()).toEqual([jeff.username, ...names].sort())
    expect(config.sans).toEqual(['nas.home.arpa'])
    expect(await verifyPassword('Xanadu 1980', config.users[0]!.passwordHash)).toBe(true)
  }, 120_000)
})

describe('a running server with several users', () => {
  it('admits each stored user, shows who signed in, and follows user add, remove and passwd at once', async () => {
    const configDir = initialised()
    expect((await addUser(configDir, bev.username, bev.password)).code).toBe(0)
    const server = startCli(serveArgs(configDir, '--no-qr'))
    const [url] = await server.waitForBanner()
    expect(server.stdout).toContain(
      'Credentials: users "JeffLynne", "Bev", from the hashes stored in config.json',
    )
    const ca = readFileSync(path.join(configDir, 'ca.pem'), 'utf8')
    const get = (auth: {username: string; password: string}, route = 'api/secret') =>
      request(`${url}${route}`, {ca, auth})

    for (const user of [jeff, bev]) {
      const page = await get(user, '')
      expect(page.status).toBe(200)
      expect(page.body).toContain(`Signed in as <strong id="user">${user.username}</strong>`)
      await server.waitFor(new RegExp(`GET / \\S+ \\S+ms ${user.username}\\n`))
    }
    expect((await get({username: jeff.username, password: bev.password})).status).toBe(401)

    // Bev's sign-in is cached now; removing her must forget it with the reload.
    expect((await get(bev)).status).toBe(200)
    const removed = await runCli(['user', 'remove', bev.username, '--config-dir', configDir, '--yes'])
    expect(removed.code).toBe(0)
    expect(removed.stderr).toMatch(/The running server \(PID \d+\) was told to reload\./)
    await server.waitFor(/reload: credentials read again from config\.json/)
    expect((await get(bev)).status).toBe(401)
    expect((await get(jeff)).status).toBe(200)

    const richard = {username: 'Richard', password: 'Tandy on keys'}
    expect((await get(richard)).status).toBe(401)
    expect((await addUser(configDir, richard.username, richard.password)).code).toBe(0)
    await waitForReloads(server, 2)
    expect((await get(richard)).status).toBe(200)

    const changed = await runCli(
      ['passwd', '--config-dir', configDir, '--username', 'Richard', '--password-stdin'],
      {
        input: 'Xanadu 1980\n',
      },
    )
    expect(changed.code).toBe(0)
    await waitForReloads(server, 3)
    expect((await get(richard)).status).toBe(401)
    expect((await get({...richard, password: 'Xanadu 1980'})).status).toBe(200)
    expect(server.stdout + server.stderr).not.toContain(bev.password)
  }, 120_000)

  it('accepts only the -u/-p user for that run, not the stored ones', async () => {
    const configDir = initialised()
    expect((await addUser(configDir, bev.username, bev.password)).code).toBe(0)
    const own = {username: 'Kelly', password: 'Groos on bass'}
    const server = startCli(serveArgs(configDir, '--no-qr', '--username', own.username, '--password-stdin'))
    server.child.stdin.end(`${own.password}\n`)
    const [url] = await server.waitForBanner()
    expect(server.stdout).toContain('Credentials: user "Kelly", from')
    const ca = readFileSync(path.join(configDir, 'ca.pem'), 'utf8')
    expect((await request(`${url}api/secret`, {ca, auth: own})).status).toBe(200)
    for (const user of [jeff, bev])
      expect((await request(`${url}api/secret`, {ca, auth: user})).status).toBe(401)
  })
})

/** Waits until the server has logged `count` credential reloads. */
async function waitForReloads(server: {waitFor(pattern: RegExp): Promise<RegExpMatchArray>}, count: number) {
  await server.waitFor(new RegExp(`(reload: credentials read again[^\\n]*\\n[^]*){${count}}`))
}

describe('homeauth init run again with several users', () => {
  it('sets the first user’s password, or renames the first user, and keeps the others', async () => {
    const configDir = initialised()
    expect((await addUser(configDir, bev.username, bev.password)).code).toBe(0)
    const bevBefore = storedConfig(configDir).users[1]
    const reinit = (username: string, password: string) =>
      runCli(
        [
          'init',
          '--config-dir',
          configDir,
          '--username',
          username,
          '--password-stdin',
          '--yes',
          '--force',
          '--no-qr',
        ],
        {
          input: `${password}\n`,
        },
      )

    expect((await reinit(jeff.username, 'Xanadu 1980')).code).toBe(0)
    let users = storedConfig(configDir).users
    expect(users.map((user) => user.name)).toEqual([jeff.username, bev.username])
    expect(await verifyPassword('Xanadu 1980', users[0]!.passwordHash)).toBe(true)
    expect(users[1]).toEqual(bevBefore)

    expect((await reinit('Jeff', 'Hold On Tight')).code).toBe(0)
    users = storedConfig(configDir).users
    expect(users.map((user) => user.name)).toEqual(['Jeff', bev.username])
    expect(await verifyPassword('Hold On Tight', users[0]!.passwordHash)).toBe(true)
    expect(users[1]).toEqual(bevBefore)
  }, 60_000)
})

import {readFileSync} from 'node:fs'
import path from 'node:path'

import {describe, expect, it} from 'vitest'

import {verifyPassword} from '../../src/credentials/hash.js'
import {ExitCode} from '../../src/errors.js'
import {runCli, serveArgs, useCli} from '../helpers/cli.js'
import {readPublicFiles} from '../helpers/files.js'
import {request} from '../helpers/https.js'
import {runInTerminal} from '../helpers/terminal.js'
import {addUser, bev, jeff, storedConfig, useInitialisedForJeff} from '../helpers/users.js'

const startCli = useCli()
const initialised = useInitialisedForJeff()

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
    expect(config.serve.san).toEqual(['nas.home.arpa'])
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
  it('sets the named user’s password, and keeps the others', async () => {
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

    expect((await reinit(bev.username, 'Hold On Tight')).code).toBe(0)
    users = storedConfig(configDir).users
    expect(users.map((user) => user.name)).toEqual([jeff.username, bev.username])
    expect(await verifyPassword('Hold On Tight', users[1]!.passwordHash)).toBe(true)
  }, 60_000)

  it('refuses a name no user has, naming user add and user remove, rather than renaming the first user', async () => {
    const configDir = initialised()
    const before = readPublicFiles(configDir)
    const refused = await runCli(
      ['init', '--config-dir', configDir, '-u', 'Jeff', '--password-stdin', '--yes', '--force', '--no-qr'],
      {input: 'Hold On Tight\n'},
    )
    expect(refused.code).toBe(ExitCode.usage)
    expect(refused.stdout).toBe('')
    const [error, hint, ...rest] = refused.stderr.trim().split('\n')
    expect(error).toBe(
      'Error: There is no user named "Jeff" (users: JeffLynne); a re-run of init sets the password of a stored user, it does not rename.',
    )
    expect(hint).toMatch(
      /^ {2}Try: Add Jeff with: .* user add Jeff .*then remove the old name with user remove\)\.$/,
    )
    expect(rest).toEqual([])
    expect(readPublicFiles(configDir)).toEqual(before)
  })

  it('refuses such a name at the user name question too, and takes a stored one', async () => {
    const configDir = initialised()
    const session = await runInTerminal(
      ['init', '--config-dir', configDir, '--secret', 'Livin Thing', '--no-qr'],
      [
        [/Replace the configuration/, 'y\r'],
        [/User name/, 'Jeff\r'],
        // The answer stays in the field: completing it gives a stored user's name.
        [/it does not rename/, 'Lynne\r'],
        [/New password for JeffLynne/, '\r'],
        [/Port/, '\r'],
        [/Host names and IP addresses/, '\r'],
      ],
    )
    expect(session.output).toContain('There is no user named "Jeff" (users: JeffLynne)')
    expect(session.code).toBe(0)
    expect(storedConfig(configDir).users.map((user) => user.name)).toEqual([jeff.username])
  })
})

import {readFileSync} from 'node:fs'
import path from 'node:path'

import {describe, expect, it} from 'vitest'

import {withConfigLock} from '../../src/config/files.js'
import {hashPassword, verifyPassword} from '../../src/credentials/hash.js'
import {ExitCode} from '../../src/errors.js'
import {cliCommand, runCli, serveArgs, urlPattern, useCli} from '../helpers/cli.js'
import {readPublicFiles} from '../helpers/files.js'
import {request} from '../helpers/https.js'
import {useTempDir} from '../helpers/temp.js'
import {cheapHashParams} from '../helpers/hashes.js'
import {addUser, bev, jeff, storedConfig, useInitialisedForJeff} from '../helpers/users.js'

const tempDir = useTempDir()
const startCli = useCli()

const initialised = useInitialisedForJeff()

const rawConfig = (configDir: string) =>
  JSON.parse(readFileSync(path.join(configDir, 'config.json'), 'utf8')) as Record<string, unknown>

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
  it('is read as it is, and written as version 3 by the next change, keeping the user', async () => {
    const configDir = initialised()
    const versionOne = await writeVersionOne(configDir)
    const listed = await runCli(['user', 'list', '--config-dir', configDir, '--json'])
    expect(JSON.parse(listed.stdout)).toEqual({users: [{name: jeff.username, passwordSetAt: null}]})
    const text = await runCli(['user', 'list', '--config-dir', configDir])
    expect(text.stdout).toMatch(/^JeffLynne\s+unknown/m)
    expect(readFileSync(path.join(configDir, 'config.json'), 'utf8')).toBe(versionOne)

    expect((await addUser(configDir, bev.username, bev.password)).code).toBe(0)
    const written = rawConfig(configDir)
    expect(written.version).toBe(3)
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
    const newer = {...rawConfig(configDir), version: 4, groups: []}
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
        /config\.json was written by a newer homeauth \(config version 4; this one reads up to 3\)\.$/,
      )
    }
    expect(readPublicFiles(configDir)).toEqual(before)
  })
})

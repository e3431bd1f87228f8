import {readFileSync} from 'node:fs'
import path from 'node:path'

import {describe, expect, it} from 'vitest'

import {serveArgs, urlPattern, useCli} from '../helpers/cli.js'
import {readTree} from '../helpers/files.js'
import {request} from '../helpers/https.js'
import {runInTerminal} from '../helpers/terminal.js'
import {useTempDir} from '../helpers/temp.js'
import {caFingerprint, init, password, serveOnce} from '../helpers/init.js'

const tempDir = useTempDir()
const startCli = useCli()

describe('homeauth serve after init', () => {
  it('takes credentials, port and secret from the config and checks the stored hash', async () => {
    const configDir = tempDir()
    expect((await init(configDir, '--secret', 'Telephone Line')).code).toBe(0)
    const cli = startCli(serveArgs(configDir))
    const [url] = await cli.waitForBanner()
    expect(cli.stdout).toContain('Credentials: user "JeffLynne", from the hash stored in config.json')
    const ca = readFileSync(path.join(configDir, 'ca.pem'), 'utf8')
    const right = await request(`${url}api/secret`, {ca, auth: {username: 'JeffLynne', password}})
    expect(JSON.parse(right.body)).toEqual({message: 'Telephone Line'})
    for (const wrong of [
      {username: 'JeffLynne', password: 'mr blue sky 1977'},
      {username: 'Bev', password},
      {username: 'JeffLynne', password: `${password} `},
    ]) {
      expect((await request(`${url}api/secret`, {ca, auth: wrong})).status).toBe(401)
    }
  })
})

describe('homeauth init at a terminal', () => {
  it('asks every question, with the password masked and asked twice', async () => {
    const configDir = tempDir()
    const session = await runInTerminal(
      ['init', '--config-dir', configDir],
      [
        [/User name/, 'JeffLynne\r'],
        [/New password for JeffLynne/, 'first try\r'],
        [/same password again/, 'different\r'],
        [/differ; please try again/, ''],
        [/New password for JeffLynne/, `${password}\r`],
        [/same password again/, `${password}\r`],
        [/Secret message/, 'Hold On Tight\r'],
        [/Port/, '9443\r'],
        [/Host names and IP addresses/, 'pi.home.arpa\r'],
      ],
    )
    expect(session.code).toBe(0)
    expect(session.output).not.toContain(password)
    expect(session.output).toContain('homeauth is set up')
    const config = JSON.parse(readFileSync(path.join(configDir, 'config.json'), 'utf8'))
    expect(config).toMatchObject({
      users: [{name: 'JeffLynne'}],
      secret: 'Hold On Tight',
      serve: {port: 9443, san: ['pi.home.arpa']},
    })
  })

  it('offers the current values on a re-run, so pressing Enter throughout changes nothing', async () => {
    const configDir = tempDir()
    expect(
      (await init(configDir, '--port', '9443', '--secret', 'Evil Woman', '--san', 'pi.home.arpa')).code,
    ).toBe(0)
    const before = readFileSync(path.join(configDir, 'config.json'), 'utf8')
    const ca = caFingerprint(configDir)
    const session = await runInTerminal(
      ['init', '--config-dir', configDir],
      [
        [/Replace the configuration/, 'y\r'],
        [/User name/, '\r'],
        [/New password for JeffLynne/, '\r'],
        [/Secret message/, '\r'],
        [/Port/, '\r'],
        [/Host names and IP addresses/, '\r'],
      ],
    )
    expect(session.code).toBe(0)
    expect(session.output).toContain('leave empty to keep the current one')
    expect(session.output).not.toContain('same password again')
    expect(readFileSync(path.join(configDir, 'config.json'), 'utf8')).toBe(before)
    expect(caFingerprint(configDir)).toBe(ca)
  })

  it('reads --password-stdin without echoing it, and the questions after it still work', async () => {
    const configDir = tempDir()
    const session = await runInTerminal(
      ['init', '--config-dir', configDir, '--username', 'JeffLynne', '--password-stdin'],
      [
        [/Password/, `${password}\r`],
        [/Secret message/, 'Hold On Tight\r'],
        [/Port/, '\r'],
        [/Host names and IP addresses/, '\r'],
      ],
    )
    expect(session.code).toBe(0)
    expect(session.output).not.toContain(password)
    expect(session.output).toContain('homeauth is set up')
    const config = JSON.parse(readFileSync(path.join(configDir, 'config.json'), 'utf8'))
    expect(config).toMatchObject({
      users: [{name: 'JeffLynne'}],
      secret: 'Hold On Tight',
      serve: {port: 8443},
    })
    const serving = startCli(serveArgs(configDir))
    const [url] = await serving.waitFor(urlPattern)
    const ca = readFileSync(path.join(configDir, 'ca.pem'), 'utf8')
    expect((await request(`${url}api/secret`, {ca, auth: {username: 'JeffLynne', password}})).status).toBe(
      200,
    )
  })

  it('asks before --new-ca replaces a CA that an earlier serve made, and keeps it on "no"', async () => {
    const configDir = tempDir()
    await serveOnce(startCli, configDir)
    const before = readTree(configDir)
    const session = await runInTerminal(
      ['init', '--config-dir', configDir, '--new-ca'],
      [[/Replace the CA in/, 'n\r']],
    )
    expect(session.code).toBe(0)
    expect(session.output).toContain('Nothing changed.')
    expect(readTree(configDir)).toEqual(before)
  })

  it('asks before replacing an existing config, and leaves it alone on "no"', async () => {
    const configDir = tempDir()
    expect((await init(configDir)).code).toBe(0)
    const before = readTree(configDir)
    const session = await runInTerminal(
      ['init', '--config-dir', configDir],
      [[/Replace the configuration/, 'n\r']],
    )
    expect(session.code).toBe(0)
    expect(session.output).toContain('Nothing changed.')
    expect(readTree(configDir)).toEqual(before)
  })
})

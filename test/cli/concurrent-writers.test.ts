import {X509Certificate, createPrivateKey} from 'node:crypto'
import {readFileSync} from 'node:fs'
import path from 'node:path'

import {describe, expect, it} from 'vitest'

import {parseConfig} from '../../src/config/config.js'
import {verifyPassword} from '../../src/credentials/hash.js'
import {runCli} from '../helpers/cli.js'
import {useTempDir} from '../helpers/temp.js'

const tempDir = useTempDir()
const rounds = 4

describe('homeauth passwd and cert renew started together', () => {
  it('never lose an update nor leave a link dangling, round after round', async () => {
    const configDir = tempDir()
    const init = await runCli(
      ['init', '--config-dir', configDir, '--username', 'u', '--password-stdin', '--yes'],
      {input: 'first password\n'},
    )
    expect(init.code).toBe(0)

    const added: string[] = []
    let lastPasswords: string[] = []
    for (let round = 0; round < rounds; round++) {
      const host = `host${round}.home.arpa`
      added.push(host)
      lastPasswords = [`round ${round} password a`, `round ${round} password b`]
      const results = await Promise.all([
        ...lastPasswords.map((password) =>
          runCli(['passwd', '--config-dir', configDir, '--password-stdin'], {input: `${password}\n`}),
        ),
        runCli(['cert', 'renew', '--config-dir', configDir, '--san', host]),
      ])
      for (const result of results) expect(result.stderr).not.toMatch(/Error/)
      for (const result of results) expect(result.code).toBe(0)
    }

    const configJson = path.join(configDir, 'config.json')
    const config = parseConfig(readFileSync(configJson, 'utf8'), configJson)
    expect(config.serve.san).toEqual(added)
    const certificate = new X509Certificate(readFileSync(path.join(configDir, 'server.pem')))
    for (const host of added) expect(certificate.subjectAltName).toContain(`DNS:${host}`)
    const key = createPrivateKey(readFileSync(path.join(configDir, 'server-key.pem')))
    expect(certificate.checkPrivateKey(key)).toBe(true)
    expect((await runCli(['cert', '--config-dir', configDir])).code).toBe(0)
    const matches = await Promise.all(
      lastPasswords.map((password) => verifyPassword(password, config.users[0]!.passwordHash)),
    )
    expect(matches).toContain(true)
  }, 120_000)
})

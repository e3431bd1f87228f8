import {describe, expect, it} from 'vitest'

import {configFile, configVersion, readConfig, type HomeauthConfig} from '../../src/config/config.js'
import {withConfigLock} from '../../src/config/files.js'
import {resolveServeSettings, type ServeSettings} from '../../src/config/serve-settings.js'
import {hashPassword} from '../../src/credentials/hash.js'
import {startHomeauth} from '../../src/server/serve.js'
import {initialize} from '../../src/setup/init.js'
import {request} from '../helpers/https.js'
import {user} from '../helpers/server.js'
import {useTempDir} from '../helpers/temp.js'
import {cheapHashParams} from '../helpers/hashes.js'

/** What serve is asked for with no flags but `given`. */
function asked(configDir: string, given: Partial<ServeSettings> = {}): ServeSettings {
  return {
    configDir,
    extraHosts: [],
    realm: 'homeauth',
    throttle: {maxFailures: 5, windowMs: 900_000, lockoutMs: 60_000},
    trustProxy: [],
    ...given,
  }
}

describe('startHomeauth', () => {
  const tempDir = useTempDir()

  async function writeConfig(configDir: string, given: Partial<HomeauthConfig>): Promise<HomeauthConfig> {
    const config: HomeauthConfig = {
      version: configVersion,
      users: [
        {
          name: user.username,
          passwordHash: await hashPassword(user.password, cheapHashParams),
          passwordSetAt: null,
        },
      ],
      secret: 'Mr Blue Sky',
      port: 8443,
      host: null,
      sans: [],
      ...given,
    }
    await withConfigLock(configDir, ({updateFileSet}) => updateFileSet([configFile(config)]))
    return config
  }

  it('listens on the host stored in config.json when the options name none', async () => {
    const configDir = tempDir()
    const config = await writeConfig(configDir, {host: '127.0.0.1'})
    const settings = await resolveServeSettings(asked(configDir, {port: 0}))
    const server = await startHomeauth({...settings, credentials: user, secret: config.secret})
    try {
      expect(server.listener.host).toBe('127.0.0.1')
      expect(server.urls).toEqual([`https://127.0.0.1:${server.listener.port}/`])
    } finally {
      await server.close()
    }
  })

  it('reissues a certificate that lacks a name stored in config.json', async () => {
    const configDir = tempDir()
    const first = await startHomeauth({
      configDir,
      config: undefined,
      credentials: user,
      secret: 'x',
      host: '127.0.0.1',
      port: 0,
    })
    await first.close()
    await writeConfig(configDir, {sans: ['nas.home.arpa']})
    const settings = await resolveServeSettings(asked(configDir, {host: '127.0.0.1', port: 0}))
    const server = await startHomeauth({...settings, credentials: user, secret: 'x'})
    try {
      expect(server.tls.addedHosts).toEqual(['nas.home.arpa'])
      expect(server.tls.certificate.hosts).toContain('nas.home.arpa')
    } finally {
      await server.close()
    }
  })

  it('hands out the new CA, over HTTPS and plain HTTP, once a reload finds one', async () => {
    const configDir = tempDir()
    const answers = {
      username: user.username,
      password: {storedHash: await hashPassword(user.password, cheapHashParams)},
      secret: 'Telephone Line',
      port: 0,
      extraHosts: [],
      newCa: false,
    }
    await initialize(configDir, answers)
    const config = await readConfig(configDir)
    const server = await startHomeauth({
      configDir,
      config,
      secret: 'Telephone Line',
      host: '127.0.0.1',
      port: 0,
    })
    try {
      const caFile = async (scheme: 'http' | 'https', ca: string) =>
        (await request(`${scheme}://127.0.0.1:${server.listener.port}/ca.pem`, {ca, servername: 'localhost'}))
          .body
      const before = server.tls.authority!.cert
      expect(await caFile('https', before)).toBe(before)
      await initialize(configDir, {...answers, newCa: true})
      await server.reload()
      const after = server.tls.authority!.cert
      expect(after).not.toBe(before)
      expect(await caFile('http', after)).toBe(after)
      expect(await caFile('https', after)).toBe(after)
    } finally {
      await server.close()
    }
  })
})

describe('resolveServeSettings', () => {
  const tempDir = useTempDir()

  it('takes the port and host from the flags, else config.json, else 8443 on all interfaces', async () => {
    const configDir = tempDir()
    expect(await resolveServeSettings(asked(configDir))).toMatchObject({
      config: undefined,
      port: 8443,
      host: undefined,
    })
    await initialize(configDir, {...user, secret: 'Showdown', port: 9443, extraHosts: [], newCa: false})
    await withConfigLock(configDir, async ({updateFileSet}) => {
      const config = (await readConfig(configDir))!
      await updateFileSet([configFile({...config, host: '127.0.0.1'})])
    })
    const stored = await resolveServeSettings(asked(configDir))
    expect(stored).toMatchObject({port: 9443, host: '127.0.0.1'})
    expect(stored.config).toEqual(await readConfig(configDir))
    expect(await resolveServeSettings(asked(configDir, {port: 0, host: '::1'}))).toMatchObject({
      port: 0,
      host: '::1',
    })
  })
})

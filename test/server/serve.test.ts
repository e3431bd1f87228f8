import {describe, expect, it} from 'vitest'

import {configFile, configVersion, readConfig, type HomeauthConfig} from '../../src/config/config.js'
import {withConfigLock} from '../../src/config/files.js'
import {resolveServeSettings, type ServeRequest} from '../../src/config/serve-settings.js'
import type {StoredSettings} from '../../src/config/stored-settings.js'
import {hashPassword} from '../../src/credentials/hash.js'
import {startHomeauth} from '../../src/server/serve.js'
import {initialize} from '../../src/setup/init.js'
import {request} from '../helpers/https.js'
import {user} from '../helpers/server.js'
import {useTempDir} from '../helpers/temp.js'
import {cheapHashParams} from '../helpers/hashes.js'

/** What serve is asked for with no flags but `given`. */
function asked(configDir: string, given: StoredSettings = {}): ServeRequest {
  return {configDir, given}
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
      serve: {port: 8443},
      ...given,
    }
    await withConfigLock(configDir, ({updateFileSet}) => updateFileSet([configFile(config)]))
    return config
  }

  it('listens on the host stored in config.json when the options name none', async () => {
    const configDir = tempDir()
    const config = await writeConfig(configDir, {serve: {host: '127.0.0.1'}})
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
    await writeConfig(configDir, {serve: {san: ['nas.home.arpa']}})
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
      await updateFileSet([configFile({...config, serve: {...config.serve, host: '127.0.0.1'}})])
    })
    const stored = await resolveServeSettings(asked(configDir))
    expect(stored).toMatchObject({port: 9443, host: '127.0.0.1'})
    expect(stored.config).toEqual(await readConfig(configDir))
    expect(await resolveServeSettings(asked(configDir, {port: 0, host: '::1'}))).toMatchObject({
      port: 0,
      host: '::1',
    })
  })

  it('takes every stored setting where no flag is given, and a given flag for the run alone', async () => {
    const configDir = tempDir()
    await initialize(configDir, {...user, secret: 'Showdown', port: 9443, extraHosts: [], newCa: false})
    const serve: StoredSettings = {
      port: 9443,
      realm: 'Stored',
      'max-failures': 3,
      'failure-window': 60,
      lockout: 10,
      'trust-proxy': ['127.0.0.1'],
      'auth-listen': '127.0.0.1:9092',
      'frame-ancestors': ["'self'"],
      'secret-file': '/srv/message.txt',
      cert: '/etc/ssl/home.pem',
      key: '/etc/ssl/home-key.pem',
    }
    await withConfigLock(configDir, async ({updateFileSet}) => {
      const config = (await readConfig(configDir))!
      await updateFileSet([configFile({...config, serve})])
    })
    expect(await resolveServeSettings(asked(configDir))).toMatchObject({
      port: 9443,
      realm: 'Stored',
      throttle: {maxFailures: 3, windowMs: 60_000, lockoutMs: 10_000},
      trustProxy: ['127.0.0.1'],
      authListen: '127.0.0.1:9092',
      frameAncestors: ["'self'"],
      secretFile: '/srv/message.txt',
      tlsFiles: {cert: '/etc/ssl/home.pem', key: '/etc/ssl/home-key.pem'},
    })
    const flags = {realm: 'Flag', 'trust-proxy': ['10.0.0.2'], cert: '/tmp/a.pem', key: '/tmp/a-key.pem'}
    const overridden = await resolveServeSettings({...asked(configDir, flags), secret: 'from --secret'})
    expect(overridden).toMatchObject({
      realm: 'Flag',
      trustProxy: ['10.0.0.2'],
      authListen: '127.0.0.1:9092',
      tlsFiles: {cert: '/tmp/a.pem', key: '/tmp/a-key.pem'},
      secret: 'from --secret',
      secretFile: undefined,
    })
    expect((await readConfig(configDir))!.serve).toEqual(serve)
  })
})

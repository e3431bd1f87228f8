import {describe, expect, it} from 'vitest'

import {configFile, configVersion, type HomeauthConfig} from '../../src/config/config.js'
import {withConfigLock} from '../../src/config/files.js'
import {hashPassword} from '../../src/credentials/hash.js'
import {startHomeauth} from '../../src/server/serve.js'
import {initialize} from '../../src/setup/init.js'
import {request} from '../helpers/https.js'
import {user} from '../helpers/server.js'
import {useTempDir} from '../helpers/temp.js'
import {cheapHashParams} from '../helpers/hashes.js'

describe('startHomeauth', () => {
  const tempDir = useTempDir()

  it('listens on the host stored in config.json when the options name none', async () => {
    const configDir = tempDir()
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
      host: '127.0.0.1',
      sans: [],
    }
    await withConfigLock(configDir, ({updateFileSet}) => updateFileSet([configFile(config)]))
    const server = await startHomeauth({configDir, credentials: user, secret: config.secret, port: 0})
    try {
      expect(server.listener.host).toBe('127.0.0.1')
      expect(server.urls).toEqual([`https://127.0.0.1:${server.listener.port}/`])
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
    const server = await startHomeauth({configDir, secret: 'Telephone Line', host: '127.0.0.1', port: 0})
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

import {describe, expect, it} from 'vitest'

import {configFile, configVersion, type HomeauthConfig} from '../../src/config/config.js'
import {withConfigLock} from '../../src/config/files.js'
import {hashPassword} from '../../src/credentials/hash.js'
import {findOnboardingUrls, onboardingUrls} from '../../src/server/onboarding-urls.js'
import {useTempDir} from '../helpers/temp.js'
import {cheapHashParams} from '../helpers/hashes.js'

const lan = ['fd00::2', '192.168.1.20', '2001:db8::7', '10.0.0.5']

describe('onboardingUrls', () => {
  it('gives plain HTTP on every LAN address for a server on all interfaces, IPv4 first, IPv6 in brackets', () => {
    expect(onboardingUrls(8443, '::', lan)).toEqual({
      urls: [
        'http://192.168.1.20:8443/',
        'http://10.0.0.5:8443/',
        'http://[fd00::2]:8443/',
        'http://[2001:db8::7]:8443/',
      ],
      localUrl: 'http://localhost:8443/',
    })
  })

  it('takes all interfaces when no address is given', () => {
    expect(onboardingUrls(9443, undefined, lan)).toEqual(onboardingUrls(9443, '::', lan))
  })

  it('leaves out IPv6 addresses for a server on 0.0.0.0', () => {
    expect(onboardingUrls(8443, '0.0.0.0', lan).urls).toEqual([
      'http://192.168.1.20:8443/',
      'http://10.0.0.5:8443/',
    ])
  })

  it('gives no URL, and says so, for a server on a loopback address', () => {
    for (const host of ['127.0.0.1', '::1', 'localhost', '127.0.1.1']) {
      expect(onboardingUrls(8443, host, lan)).toEqual({
        urls: [],
        localUrl: 'http://localhost:8443/',
        loopbackHost: host,
      })
    }
  })

  it('gives the address itself for a server on one LAN address or name', () => {
    expect(onboardingUrls(8443, '192.168.1.20', lan)).toEqual({
      urls: ['http://192.168.1.20:8443/'],
      localUrl: 'http://192.168.1.20:8443/',
    })
    expect(onboardingUrls(8443, 'fd00::2', lan).urls).toEqual(['http://[fd00::2]:8443/'])
    expect(onboardingUrls(8443, 'pi.home.arpa', lan).urls).toEqual(['http://pi.home.arpa:8443/'])
  })

  it('gives no URL when the machine has no LAN address', () => {
    expect(onboardingUrls(8443, '::', [])).toEqual({urls: [], localUrl: 'http://localhost:8443/'})
  })
})

describe('findOnboardingUrls', () => {
  const tempDir = useTempDir()

  it('takes port 8443 on all interfaces when nothing is set up and nothing runs', async () => {
    expect(await findOnboardingUrls(tempDir())).toEqual({...onboardingUrls(8443), serverRunning: false})
  })

  it('takes the port and address of config.json when no server runs', async () => {
    const configDir = tempDir()
    const config: HomeauthConfig = {
      version: configVersion,
      users: [
        {name: 'JeffLynne', passwordHash: await hashPassword('ELO', cheapHashParams), passwordSetAt: null},
      ],
      secret: 'Mr Blue Sky',
      serve: {port: 9443, host: '127.0.0.1'},
    }
    await withConfigLock(configDir, ({updateFileSet}) => updateFileSet([configFile(config)]))
    expect(await findOnboardingUrls(configDir)).toEqual({
      urls: [],
      localUrl: 'http://localhost:9443/',
      loopbackHost: '127.0.0.1',
      serverRunning: false,
    })
  })
})

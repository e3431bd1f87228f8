import {describe, expect, it} from 'vitest'

import type {FailedLogin} from '../../src/web/basic-auth.js'
import type {UntrustedProxy} from '../../src/web/forward-auth.js'
import {checkTrustedProxies} from '../../src/config/stored-settings.js'
import {isLocalAddress, proxyTrust} from '../../src/web/trusted-proxies.js'
import {request} from '../helpers/https.js'
import {useTestServer, user} from '../helpers/server.js'
import {useTempDir} from '../helpers/temp.js'

const tempDir = useTempDir()
const startServer = useTestServer()
const wrong = {username: user.username, password: 'not it'}

describe('--trust-proxy values', () => {
  it('accepts IPv4 and IPv6 addresses and CIDR ranges', () => {
    expect(() =>
      checkTrustedProxies([
        '127.0.0.1',
        '::1',
        '10.0.0.0/8',
        '192.168.1.0/24',
        'fd00::/8',
        '::ffff:10.0.0.1',
      ]),
    ).not.toThrow()
  })

  it('refuses anything else, and ranges that trust every address, as usage errors', () => {
    for (const value of [
      'proxy.local',
      '',
      '10.0.0.0/33',
      '::/129',
      '10.0.0.0/',
      '10.0.0.0/8/8',
      '1.2.3',
      '0.0.0.0/0',
      '::/0',
      '--port',
    ]) {
      expect(() => checkTrustedProxies([value]), value).toThrow(expect.objectContaining({exitCode: 2}))
    }
  })

  it('trusts the listed addresses and ranges, IPv4-mapped too, and a Unix socket as 127.0.0.1', () => {
    const trust = proxyTrust(['127.0.0.1', '10.0.0.0/8'])
    expect(trust && trust('127.0.0.1', 0)).toBe(true)
    expect(trust && trust('::ffff:127.0.0.1', 0)).toBe(true)
    expect(trust && trust('10.200.0.1', 1)).toBe(true)
    expect(trust && trust('127.0.0.2', 0)).toBe(false)
    expect(trust && trust('not an address', 1)).toBe(false)
    expect(trust && trust(undefined, 0)).toBe(true)
    expect(proxyTrust([])).toBe(false)
  })

  it('knows loopback and private addresses from public ones', () => {
    for (const address of [
      '127.0.0.1',
      '::1',
      '::ffff:192.168.1.2',
      '10.1.2.3',
      '172.20.0.1',
      'fd12::1',
      undefined,
    ])
      expect(isLocalAddress(address), address).toBe(true)
    for (const address of ['203.0.113.9', '2001:db8::1', '172.32.0.1', '::ffff:8.8.8.8'])
      expect(isLocalAddress(address), address).toBe(false)
  })
})

describe('throttling behind a trusted proxy', () => {
  it('counts each forwarded client apart: one locked out, the other still admitted through the same proxy', async () => {
    const server = await startServer(tempDir(), {trustProxy: ['127.0.0.1'], throttle: {maxFailures: 3}})
    const from = (client: string) => ({ca: server.ca, headers: {'x-forwarded-for': client}})
    for (let attempt = 0; attempt < 3; attempt++)
      expect((await request(`${server.url}/auth`, {...from('203.0.113.5'), auth: wrong})).status).toBe(401)
    const locked = await request(`${server.url}/auth`, {...from('203.0.113.5'), auth: user})
    expect(locked.status).toBe(429)
    expect(locked.headers['retry-after']).toBeDefined()
    const other = await request(`${server.url}/auth`, {...from('203.0.113.6'), auth: user})
    expect(other.status).toBe(200)
    expect(other.headers['remote-user']).toBe(user.username)
    // The proxy's own address is a client of its own, untouched by its clients' failures.
    expect((await request(`${server.url}/api/secret`, {ca: server.ca, auth: user})).status).toBe(200)
  })

  it('ignores X-Forwarded-For from an address that is not listed', async () => {
    const failures: FailedLogin[] = []
    const server = await startServer(tempDir(), {
      trustProxy: ['127.0.0.2'],
      throttle: {maxFailures: 3},
      onFailedLogin: (failure) => failures.push(failure),
    })
    for (const client of ['203.0.113.1', '203.0.113.2', '203.0.113.3']) {
      await request(`${server.url}/auth`, {ca: server.ca, auth: wrong, headers: {'x-forwarded-for': client}})
    }
    expect(failures.map((failure) => failure.address)).toEqual(['127.0.0.1', '127.0.0.1', '127.0.0.1'])
    const rotated = {'x-forwarded-for': '203.0.113.4'}
    expect((await request(`${server.url}/auth`, {ca: server.ca, auth: user, headers: rotated})).status).toBe(
      429,
    )
  })

  it('takes the right-most hop that is not a trusted proxy', async () => {
    const failures: FailedLogin[] = []
    const server = await startServer(tempDir(), {
      trustProxy: ['127.0.0.1', '10.0.0.0/8'],
      onFailedLogin: (failure) => failures.push(failure),
    })
    const headers = {'x-forwarded-for': '198.51.100.7, 203.0.113.9, 10.1.2.3'}
    await request(`${server.url}/auth`, {ca: server.ca, auth: wrong, headers})
    await request(`${server.url}/auth`, {
      ca: server.ca,
      auth: wrong,
      headers: {'x-forwarded-for': '10.9.9.9'},
    })
    expect(failures.map((failure) => failure.address)).toEqual(['203.0.113.9', '10.9.9.9'])
  })

  it('refuses a bad --trust-proxy value at start-up', async () => {
    await expect(startServer(tempDir(), {trustProxy: ['proxy.local']})).rejects.toMatchObject({
      exitCode: 2,
      message: '--trust-proxy "proxy.local" is not an IP address or CIDR range.',
    })
  })
})

describe('a proxy that is not trusted', () => {
  it('is reported once when a local address asks /auth with forwarding headers', async () => {
    const reported: UntrustedProxy[] = []
    const server = await startServer(tempDir(), {onUntrustedProxy: (proxy) => reported.push(proxy)})
    await request(`${server.url}/auth`, {ca: server.ca})
    await request(`${server.url}/api/secret`, {ca: server.ca, headers: {'x-forwarded-for': '203.0.113.1'}})
    expect(reported).toEqual([])
    for (const header of ['x-forwarded-for', 'forwarded', 'x-forwarded-host'])
      await request(`${server.url}/auth`, {ca: server.ca, headers: {[header]: 'for=203.0.113.1'}})
    expect(reported).toEqual([{address: '127.0.0.1', header: 'x-forwarded-for'}])
  })

  it('is not reported when --trust-proxy names it', async () => {
    const reported: UntrustedProxy[] = []
    const server = await startServer(tempDir(), {
      trustProxy: ['127.0.0.0/8'],
      onUntrustedProxy: (proxy) => reported.push(proxy),
    })
    await request(`${server.url}/auth`, {ca: server.ca, headers: {'x-forwarded-for': '203.0.113.1'}})
    expect(reported).toEqual([])
  })
})

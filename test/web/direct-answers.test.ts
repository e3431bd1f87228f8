import {describe, expect, it} from 'vitest'

import type {AccessLogEntry} from '../../src/web/access-log.js'
import {request, type Response} from '../helpers/https.js'
import {initForUser, useTestServer, user} from '../helpers/server.js'
import {useTempDir} from '../helpers/temp.js'

const tempDir = useTempDir()
const startServer = useTestServer()

/** An answer as a client sees it, without the Date header (the only one that may differ). */
function withoutDate({status, headers, body}: Response) {
  const {date, ...rest} = headers
  expect(date).toBeDefined()
  return {status, headers: rest, body}
}

/**
 * A stored user's first login waits for hashing, so express answers it; once the login is cached, the
 * same request is answered without express. The two answers must not differ.
 */
describe('the answers written without express', () => {
  for (const path of ['/api/secret', '/auth', '/auth?user=JeffLynne']) {
    it(`answers ${path} the same before the login is cached and after`, async () => {
      const dir = tempDir()
      await initForUser(dir)
      const entries: AccessLogEntry[] = []
      const server = await startServer(dir, {
        credentials: undefined,
        onRequest: (entry) => entries.push(entry),
      })
      const ask = () => request(`${server.url}${path}`, {ca: server.ca, auth: user})
      const first = withoutDate(await ask())
      const cached = withoutDate(await ask())
      expect(first.status).toBe(200)
      expect(cached).toEqual(first)
      expect(entries.map(({ms, ...entry}) => entry)).toEqual([
        {method: 'GET', path: path.split('?')[0], status: 200, user: user.username, device: undefined},
        {method: 'GET', path: path.split('?')[0], status: 200, user: user.username, device: undefined},
      ])
    })
  }

  it('answers /api/secret with the headers every other answer of the app carries', async () => {
    const server = await startServer(tempDir())
    const direct = withoutDate(await request(`${server.url}/api/secret`, {ca: server.ca, auth: user}))
    // A trailing slash is the same route to express, which answers it with its middleware's headers.
    const routed = withoutDate(await request(`${server.url}/api/secret/`, {ca: server.ca, auth: user}))
    expect(direct).toEqual(routed)
    expect(direct.headers['content-security-policy']).toContain("default-src 'none'")
    expect(direct.headers['strict-transport-security']).toBe('max-age=3600')
  })

  it('refuses a locked-out client with the answer express gives it, and logs it alike', async () => {
    const entries: AccessLogEntry[] = []
    const server = await startServer(tempDir(), {
      throttle: {maxFailures: 2},
      onRequest: (entry) => entries.push(entry),
    })
    const wrong = {username: user.username, password: 'not it'}
    for (let attempt = 0; attempt < 2; attempt++)
      await request(`${server.url}/api/secret`, {ca: server.ca, auth: wrong})
    const direct = withoutDate(await request(`${server.url}/api/secret`, {ca: server.ca, auth: user}))
    const routed = withoutDate(await request(`${server.url}/api/secret/`, {ca: server.ca, auth: user}))
    expect(direct.status).toBe(429)
    expect(Number(direct.headers['retry-after'])).toBeGreaterThan(0)
    expect({...direct, headers: {...direct.headers, 'retry-after': '–'}}).toEqual({
      ...routed,
      headers: {...routed.headers, 'retry-after': '–'},
    })
    expect(entries.slice(-2).map(({ms, path, ...entry}) => entry)).toEqual([
      {method: 'GET', status: 429, user: undefined, device: undefined},
      {method: 'GET', status: 429, user: undefined, device: undefined},
    ])
  })

  it('leaves a cached login that ?user= does not admit to express, decided once', async () => {
    const dir = tempDir()
    await initForUser(dir)
    const failures: unknown[] = []
    const server = await startServer(dir, {
      credentials: undefined,
      throttle: {maxFailures: 2},
      onFailedLogin: (failure) => failures.push(failure),
    })
    expect((await request(`${server.url}/auth`, {ca: server.ca, auth: user})).status).toBe(200)
    const forbidden = await request(`${server.url}/auth?user=alice`, {ca: server.ca, auth: user})
    expect(forbidden.status).toBe(403)
    expect(forbidden.body).toBe('{"message":"This user may not open this app."}')
    // One wrong password is one failure, not two, whichever way it went: the limit of 2 is not reached.
    const wrong = {username: user.username, password: 'not it'}
    expect((await request(`${server.url}/auth`, {ca: server.ca, auth: wrong})).status).toBe(401)
    expect(failures).toHaveLength(1)
    expect((await request(`${server.url}/auth`, {ca: server.ca, auth: user})).status).toBe(200)
  })

  it('refuses a cached login from a client a trusted proxy names as locked out, and admits its neighbour', async () => {
    const dir = tempDir()
    await initForUser(dir)
    const server = await startServer(dir, {
      credentials: undefined,
      trustProxy: ['127.0.0.1'],
      throttle: {maxFailures: 2},
    })
    const from = (client: string, auth: {username: string; password: string}) =>
      request(`${server.url}/auth`, {ca: server.ca, auth, headers: {'x-forwarded-for': client}})
    expect((await from('192.168.1.20', user)).status).toBe(200)
    const wrong = {username: user.username, password: 'not it'}
    for (let attempt = 0; attempt < 2; attempt++) await from('192.168.1.10', wrong)
    expect((await from('192.168.1.10', user)).status).toBe(429)
    expect((await from('192.168.1.20', user)).status).toBe(200)
  })
})

import https from 'node:https'

import {describe, expect, it} from 'vitest'

import type {AccessLogEntry} from '../../src/web/access-log.js'
import {basicHeader, request} from '../helpers/https.js'
import {useTestServer, user} from '../helpers/server.js'
import {useTempDir} from '../helpers/temp.js'

const tempDir = useTempDir()
const startServer = useTestServer()
const wrong = {username: user.username, password: 'not it'}

/** A GET that sends one Authorization field line per value (the request helper sends one at most). */
function requestWithAuthorizations(url: string, ca: string, authorizations: string[]): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = https.request(url, {ca, agent: false}, (res) => {
      res.resume()
      res.on('end', () => resolve(res.statusCode ?? 0))
    })
    req.setHeader('authorization', authorizations)
    req.on('error', reject)
    req.end()
  })
}

describe('GET /auth for reverse proxies', () => {
  it('answers 200 with Remote-User, no-store and an empty body for valid credentials', async () => {
    const server = await startServer(tempDir())
    const response = await request(`${server.url}/auth`, {ca: server.ca, auth: user})
    expect(response.status).toBe(200)
    expect(response.headers['remote-user']).toBe(user.username)
    expect(response.headers['cache-control']).toBe('no-store')
    expect(response.headers['content-length']).toBe('0')
    expect(response.body).toBe('')
  })

  it('answers exactly what /api/secret answers without credentials or with wrong ones, JSON or HTML', async () => {
    const server = await startServer(tempDir(), {realm: 'Main'})
    for (const options of [
      {},
      {auth: wrong},
      {headers: {accept: 'text/html,application/xhtml+xml,*/*;q=0.8'}},
      {auth: wrong, headers: {accept: 'text/html'}},
    ]) {
      const auth = await request(`${server.url}/auth`, {ca: server.ca, ...options})
      const secret = await request(`${server.url}/api/secret`, {ca: server.ca, ...options})
      expect(auth.status).toBe(401)
      expect(auth.headers['www-authenticate']).toBe('Basic realm="Main", charset="UTF-8"')
      for (const header of ['www-authenticate', 'content-type', 'cache-control'])
        expect(auth.headers[header], header).toBe(secret.headers[header])
      expect(auth.body).toBe(secret.body)
      expect(auth.headers['remote-user']).toBeUndefined()
    }
  })

  it('answers 429 with Retry-After after the limit, shared with the other paths, the right password too', async () => {
    const server = await startServer(tempDir(), {throttle: {maxFailures: 3}})
    await request(`${server.url}/api/secret`, {ca: server.ca, auth: wrong})
    for (let attempt = 0; attempt < 2; attempt++)
      expect((await request(`${server.url}/auth`, {ca: server.ca, auth: wrong})).status).toBe(401)
    const locked = await request(`${server.url}/auth`, {ca: server.ca, auth: user})
    expect(locked.status).toBe(429)
    expect(Number(locked.headers['retry-after'])).toBeGreaterThan(0)
    expect(locked.headers['remote-user']).toBeUndefined()
    expect((await request(`${server.url}/api/secret`, {ca: server.ca, auth: user})).status).toBe(429)
  })

  it('answers 400 to two Authorization headers, like every other path', async () => {
    const server = await startServer(tempDir())
    const header = basicHeader(user.username, user.password)
    expect(await requestWithAuthorizations(`${server.url}/auth`, server.ca, [header, header])).toBe(400)
  })

  it('admits only the users named with ?user=, comparing names exactly after NFC', async () => {
    const zoe = {username: 'Zoë', password: 'pässwörd'}
    const server = await startServer(tempDir(), {credentials: zoe})
    const status = async (query: string) =>
      (await request(`${server.url}/auth${query}`, {ca: server.ca, auth: zoe})).status
    expect(await status('?user=alice')).toBe(403)
    expect(await status('?user=alice&user=bob')).toBe(403)
    expect(await status('?user=zo%C3%AB')).toBe(403)
    expect(await status('?user=alice&user=Zo%C3%AB')).toBe(200)
    expect(await status(`?user=${encodeURIComponent('Zoë'.normalize('NFD'))}`)).toBe(200)
    const forbidden = await request(`${server.url}/auth?user=alice`, {ca: server.ca, auth: zoe})
    expect(forbidden.headers['remote-user']).toBeUndefined()
    expect(forbidden.body).toBe('{"message":"This user may not open this app."}')
    // Without valid credentials the restriction changes nothing: the browser is asked to sign in.
    expect((await request(`${server.url}/auth?user=alice`, {ca: server.ca})).status).toBe(401)
  })

  it('answers 400 to a malformed ?user= before reading credentials', async () => {
    const failures: unknown[] = []
    const server = await startServer(tempDir(), {onFailedLogin: (failure) => failures.push(failure)})
    for (const query of ['?user=', '?user=alice&user=', '?user=a%0Ab', '?user=%FF', '?user=a:b']) {
      const response = await request(`${server.url}/auth${query}`, {ca: server.ca, auth: wrong})
      expect(response.status, query).toBe(400)
      expect(response.headers['remote-user']).toBeUndefined()
    }
    expect(failures).toEqual([])
  })

  it('answers 400 to any query parameter but user, so a mistyped restriction admits nobody', async () => {
    const failures: unknown[] = []
    const server = await startServer(tempDir(), {onFailedLogin: (failure) => failures.push(failure)})
    for (const query of [
      '?users=bob',
      '?user[]=bob',
      '?user%5B%5D=bob',
      '?User=bob',
      '?user=bob&page=2',
      '?page=2',
      '?=bob',
    ]) {
      for (const auth of [user, wrong]) {
        const response = await request(`${server.url}/auth${query}`, {ca: server.ca, auth})
        expect(response.status, query).toBe(400)
        expect(response.headers['remote-user']).toBeUndefined()
      }
    }
    const typo = await request(`${server.url}/auth?users=bob`, {ca: server.ca, auth: user})
    expect(JSON.parse(typo.body)).toEqual({
      message: '"users" is not a parameter of /auth: only ?user= is (?user=alice&user=bob).',
    })
    expect(failures).toEqual([])
    // An empty query, as Caddy's `uri /auth?` sends, restricts nothing.
    expect((await request(`${server.url}/auth?`, {ca: server.ca, auth: user})).status).toBe(200)
  })

  it('sends a non-ASCII user name as its UTF-8 bytes', async () => {
    const credentials = {username: 'Юля', password: 'пароль-ключ'}
    const server = await startServer(tempDir(), {credentials})
    const response = await request(`${server.url}/auth`, {ca: server.ca, auth: credentials})
    expect(response.status).toBe(200)
    expect(Buffer.from(response.headers['remote-user'] as string, 'latin1').toString('utf8')).toBe('Юля')
  })

  it('answers HEAD, and the methods nginx’s auth_request may ask with, like GET', async () => {
    const server = await startServer(tempDir())
    for (const method of ['HEAD', 'POST', 'PUT']) {
      const admitted = await request(`${server.url}/auth`, {ca: server.ca, auth: user, method})
      expect(admitted.status, method).toBe(200)
      expect(admitted.headers['remote-user']).toBe(user.username)
      expect(admitted.body).toBe('')
      const challenged = await request(`${server.url}/auth`, {ca: server.ca, method})
      expect(challenged.status, method).toBe(401)
      expect(challenged.headers['www-authenticate']).toBe('Basic realm="homeauth", charset="UTF-8"')
    }
  })

  it('never echoes a Remote-User the client sent', async () => {
    const server = await startServer(tempDir())
    const headers = {'remote-user': 'admin'}
    expect(
      (await request(`${server.url}/auth`, {ca: server.ca, headers})).headers['remote-user'],
    ).toBeUndefined()
    const admitted = await request(`${server.url}/auth`, {ca: server.ca, headers, auth: user})
    expect(admitted.headers['remote-user']).toBe(user.username)
    const wrongPassword = await request(`${server.url}/auth`, {ca: server.ca, headers, auth: wrong})
    expect(wrongPassword.headers['remote-user']).toBeUndefined()
  })

  it('logs /auth with the user, and leaves the public paths open', async () => {
    const entries: AccessLogEntry[] = []
    const server = await startServer(tempDir(), {onRequest: (entry) => entries.push(entry)})
    await request(`${server.url}/auth?user=${user.username}`, {ca: server.ca, auth: user})
    expect((await request(`${server.url}/healthz`, {ca: server.ca})).status).toBe(200)
    expect((await request(`${server.url}/trust`, {ca: server.ca})).status).toBe(200)
    expect(entries[0]).toMatchObject({method: 'GET', path: '/auth', status: 200, user: user.username})
  })
})

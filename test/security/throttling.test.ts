import https from 'node:https'

import {describe, expect, it} from 'vitest'

import type {FailedLogin} from '../../src/web/basic-auth.js'
import {initialize} from '../../src/setup/init.js'
import {runCli} from '../helpers/cli.js'
import {basicHeader, request, type RequestOptions} from '../helpers/https.js'
import {useTestServer, user} from '../helpers/server.js'
import {useTempDir} from '../helpers/temp.js'

const tempDir = useTempDir()
const startServer = useTestServer()
const wrong = {username: user.username, password: 'not it'}

/** A GET that sends one Authorization field line per value (the request helper sends one at most). */
function requestWithAuthorizations(
  url: string,
  ca: string,
  authorizations: string[],
): Promise<{status: number; body: string}> {
  return new Promise((resolve, reject) => {
    const req = https.request(url, {ca, agent: false}, (res) => {
      let body = ''
      res.setEncoding('utf8')
      res.on('data', (chunk: string) => (body += chunk))
      res.on('end', () => resolve({status: res.statusCode ?? 0, body}))
    })
    req.setHeader('authorization', authorizations)
    req.on('error', reject)
    req.end()
  })
}

async function statuses(url: string, count: number, options: RequestOptions): Promise<number[]> {
  const responses = await Promise.all(Array.from({length: count}, () => request(url, options)))
  return responses.map((response) => response.status)
}

describe('failed-login throttling on a real server', () => {
  it('answers 429 with Retry-After to every request with credentials once a client has 5 failures, the right password too', async () => {
    const server = await startServer(tempDir())
    const url = `${server.url}/api/secret`
    for (let attempt = 0; attempt < 5; attempt++)
      expect((await request(url, {ca: server.ca, auth: wrong})).status).toBe(401)
    const locked = await request(url, {ca: server.ca, auth: user})
    expect(locked.status).toBe(429)
    expect(Number(locked.headers['retry-after'])).toBeGreaterThan(50)
    expect(locked.body).not.toContain('42')
    expect((await request(url, {ca: server.ca, auth: wrong})).status).toBe(429)
  })

  it('never locks out other clients because of one guesser', async () => {
    const server = await startServer(tempDir())
    const url = `${server.url}/api/secret`
    for (let attempt = 0; attempt < 6; attempt++)
      await request(url, {ca: server.ca, auth: wrong, localAddress: '127.0.0.2'})
    expect((await request(url, {ca: server.ca, auth: user, localAddress: '127.0.0.2'})).status).toBe(429)
    expect((await request(url, {ca: server.ca, auth: user, localAddress: '127.0.0.3'})).status).toBe(200)
  })

  it('does not count requests without credentials, and resets a client on a success below the limit', async () => {
    const server = await startServer(tempDir())
    const url = `${server.url}/api/secret`
    expect(new Set(await statuses(url, 20, {ca: server.ca}))).toEqual(new Set([401]))
    for (let attempt = 0; attempt < 4; attempt++) await request(url, {ca: server.ca, auth: wrong})
    expect((await request(url, {ca: server.ca, auth: user})).status).toBe(200)
    for (let attempt = 0; attempt < 4; attempt++)
      expect((await request(url, {ca: server.ca, auth: wrong})).status).toBe(401)
    expect((await request(url, {ca: server.ca, auth: user})).status).toBe(200)
  })

  it('lets no more than 5 parallel wrong guesses through to a 401', async () => {
    const server = await startServer(tempDir())
    const results = await statuses(`${server.url}/api/secret`, 25, {ca: server.ca, auth: wrong})
    expect(results.filter((status) => status === 401)).toHaveLength(5)
    expect(results.filter((status) => status === 429)).toHaveLength(20)
  })

  it('never refuses a browser’s parallel requests with the right password below the limit', async () => {
    const server = await startServer(tempDir())
    for (let attempt = 0; attempt < 4; attempt++)
      await request(`${server.url}/api/secret`, {ca: server.ca, auth: wrong})
    const paths = ['/', '/api/secret', '/favicon.ico', '/api/secret', '/', '/api/secret', '/', '/api/secret']
    const results = await Promise.all(
      paths.map((path) => request(`${server.url}${path}`, {ca: server.ca, auth: user})),
    )
    expect(results.map((response) => response.status)).toEqual([200, 200, 204, 200, 200, 200, 200, 200])
  })

  it('reports each failed login with the address and the user name tried, never the password', async () => {
    const failures: FailedLogin[] = []
    const server = await startServer(tempDir(), {onFailedLogin: (failure) => failures.push(failure)})
    await request(`${server.url}/api/secret`, {
      ca: server.ca,
      auth: {username: 'mallory\nforged line', password: 'guess'},
    })
    await request(`${server.url}/api/secret`, {ca: server.ca, headers: {authorization: 'Basic !!!'}})
    expect(failures).toEqual([
      {address: '127.0.0.1', user: undefined, failures: 1, lockedForSeconds: undefined},
      {address: '127.0.0.1', user: undefined, failures: 2, lockedForSeconds: undefined},
    ])
    await request(`${server.url}/api/secret`, {ca: server.ca, auth: {username: 'mallory', password: 'guess'}})
    expect(failures[2]).toEqual({
      address: '127.0.0.1',
      user: 'mallory',
      failures: 3,
      lockedForSeconds: undefined,
    })
    expect(JSON.stringify(failures)).not.toContain('guess')
  })

  it('answers 503 with Retry-After to a new client’s credentials when every tracked client is locked out, and 429 still to the locked-out ones', async () => {
    const failures: FailedLogin[] = []
    const server = await startServer(tempDir(), {
      throttle: {maxFailures: 1, maxClients: 2},
      onFailedLogin: (failure) => failures.push(failure),
    })
    const url = `${server.url}/api/secret`
    for (const localAddress of ['127.0.0.2', '127.0.0.3'])
      expect((await request(url, {ca: server.ca, auth: wrong, localAddress})).status).toBe(401)

    const newcomer = await request(url, {ca: server.ca, auth: user, localAddress: '127.0.0.4'})
    expect(newcomer.status).toBe(503)
    expect(Number(newcomer.headers['retry-after'])).toBeGreaterThan(0)
    expect(newcomer.body).not.toContain('42')
    expect((await request(url, {ca: server.ca, auth: wrong, localAddress: '127.0.0.5'})).status).toBe(503)
    expect((await request(url, {ca: server.ca, localAddress: '127.0.0.4'})).status).toBe(401)
    for (const localAddress of ['127.0.0.2', '127.0.0.3'])
      expect((await request(url, {ca: server.ca, auth: user, localAddress})).status).toBe(429)
    expect(failures.map((failure) => failure.address)).toEqual(['127.0.0.2', '127.0.0.3'])
  })

  it('answers 400 to two Authorization headers without counting a failure, then 200 to the right one alone', async () => {
    const failures: FailedLogin[] = []
    const server = await startServer(tempDir(), {onFailedLogin: (failure) => failures.push(failure)})
    const url = `${server.url}/api/secret`
    const wrongHeader = basicHeader(wrong.username, wrong.password)
    for (let attempt = 0; attempt < 10; attempt++) {
      const response = await requestWithAuthorizations(url, server.ca, [wrongHeader, wrongHeader])
      expect(response.status).toBe(400)
      expect(response.body).not.toContain('42')
    }
    expect(failures).toEqual([])
    expect((await request(url, {ca: server.ca, auth: user})).status).toBe(200)
  })

  it('makes fetch-secret exit 5 with the wait when the real server throttles it', async () => {
    const server = await startServer(tempDir())
    for (let attempt = 0; attempt < 5; attempt++)
      await request(`${server.url}/api/secret`, {ca: server.ca, auth: wrong})
    const result = await runCli(
      ['fetch-secret', '--url', server.url, '--ca', server.tls.authority!.file, '-u', user.username],
      {
        env: {HOMEAUTH_PASSWORD: user.password},
      },
    )
    expect(result.code).toBe(5)
    expect(result.stderr).toMatch(
      /Too many failed logins from this address: the server asks to wait \d+ seconds\./,
    )
  })
})

describe('hashing shared between clients', () => {
  it('keeps answering a verified client at once while guesses from many addresses wait their turn, and checks every one', async () => {
    const configDir = tempDir()
    await initialize(configDir, {
      ...user,
      secret: 'Shine a Little Love',
      port: 8443,
      extraHosts: [],
      newCa: false,
    })
    const server = await startServer(configDir, {credentials: undefined, secret: 'Shine a Little Love'})
    const url = `${server.url}/api/secret`
    expect((await request(url, {ca: server.ca, auth: user})).status).toBe(200)

    const flood = Promise.all(
      Array.from({length: 24}, (_, index) =>
        request(url, {
          ca: server.ca,
          auth: {username: user.username, password: `guess ${index}`},
          localAddress: `127.0.1.${index + 1}`,
          // The checks take a third of a second each, two at a time, and longer on a busy machine.
          timeoutMs: 60_000,
        }),
      ),
    )
    const verified = await Promise.all(
      Array.from({length: 10}, () => request(url, {ca: server.ca, auth: user})),
    )
    const guesses = await flood
    expect(verified.map((response) => response.status)).toEqual(Array(10).fill(200))
    expect(guesses.map((response) => response.status)).toEqual(Array(24).fill(401))
  }, 90_000)
})

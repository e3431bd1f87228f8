import {spawnSync} from 'node:child_process'
import {existsSync, statSync, writeFileSync} from 'node:fs'
import {readFile} from 'node:fs/promises'
import http, {type IncomingHttpHeaders} from 'node:http'
import path from 'node:path'

import {describe, expect, it} from 'vitest'

import Serve from '../../src/commands/serve.js'
import {parseAuthListen} from '../../src/net/auth-listener.js'
import type {FailedLogin} from '../../src/web/basic-auth.js'
import {backgroundCommand} from '../../src/daemon/detach.js'
import {basicHeader, request} from '../helpers/https.js'
import {useTestServer, user} from '../helpers/server.js'
import {useTempDir} from '../helpers/temp.js'

const tempDir = useTempDir()
const startServer = useTestServer()
const wrong = {username: user.username, password: 'not it'}

/** One plain HTTP request over a Unix socket. */
function requestOverSocket(
  socketPath: string,
  urlPath: string,
  headers: Record<string, string> = {},
): Promise<{status: number; headers: IncomingHttpHeaders; body: string}> {
  return new Promise((resolve, reject) => {
    const req = http.request({socketPath, path: urlPath, headers, agent: false}, (res) => {
      let body = ''
      res.setEncoding('utf8')
      res.on('data', (chunk: string) => (body += chunk))
      res.on('end', () => resolve({status: res.statusCode ?? 0, headers: res.headers, body}))
    })
    req.on('error', reject)
    req.end()
  })
}

describe('--auth-listen values', () => {
  it('accepts loopback addresses with a port, and socket paths made absolute', () => {
    expect(parseAuthListen('127.0.0.1:9091')).toEqual({host: '127.0.0.1', port: 9091})
    expect(parseAuthListen('127.0.0.2:0')).toEqual({host: '127.0.0.2', port: 0})
    expect(parseAuthListen('[::1]:9091')).toEqual({host: '::1', port: 9091})
    expect(parseAuthListen('localhost:9091')).toEqual({host: '127.0.0.1', port: 9091})
    expect(parseAuthListen('run/auth.sock')).toEqual({socketPath: path.resolve('run/auth.sock')})
    expect(parseAuthListen('/run/homeauth/auth.sock')).toEqual({socketPath: '/run/homeauth/auth.sock'})
  })

  it('refuses any other address, and malformed values, as usage errors', () => {
    for (const value of ['0.0.0.0:9091', '192.168.1.2:9091', '[::]:9091', '::1:9091', 'example.com:9091']) {
      expect(() => parseAuthListen(value), value).toThrow(/is not a loopback address/)
    }
    for (const value of ['9091', 'auth.sock', '127.0.0.1', '127.0.0.1:', '127.0.0.1:99999', '127.0.0.1:x']) {
      expect(() => parseAuthListen(value), value).toThrow(expect.objectContaining({exitCode: 2}))
    }
  })

  it('is passed to a detached server, a socket path made absolute', () => {
    const commandLine = (authListen: string) => ({
      definitions: Serve.flags,
      values: {'auth-listen': authListen},
    })
    const tcp = backgroundCommand({configDir: 'config'}, commandLine('127.0.0.1:9091'), undefined, {}).args
    expect(tcp.slice(-2)).toEqual(['--auth-listen', '127.0.0.1:9091'])
    const socket = backgroundCommand({configDir: 'config'}, commandLine('./auth.sock'), undefined, {}).args
    expect(socket.slice(-2)).toEqual(['--auth-listen', path.resolve('auth.sock')])
  })
})

describe('the /auth listener on loopback', () => {
  it('answers /auth over plain HTTP, and 404 to every other path without reading credentials', async () => {
    const configDir = tempDir()
    const server = await startServer(configDir, {authListen: '127.0.0.1:0'})
    const address = server.authListener!.address
    expect(address).toMatchObject({host: '127.0.0.1'})
    const base = `http://127.0.0.1:${'port' in address ? address.port : 0}`
    const admitted = await request(`${base}/auth`, {auth: user})
    expect(admitted.status).toBe(200)
    expect(admitted.headers['remote-user']).toBe(user.username)
    const challenged = await request(`${base}/auth`)
    expect(challenged.status).toBe(401)
    expect(challenged.headers['www-authenticate']).toBe('Basic realm="homeauth", charset="UTF-8"')
    expect(challenged.headers['x-content-type-options']).toBe('nosniff')
    for (const urlPath of ['/', '/api/secret', '/healthz', '/trust', '/ca.pem']) {
      const response = await request(`${base}${urlPath}`, {auth: user})
      expect(response.status, urlPath).toBe(404)
      expect(response.body).not.toContain('42')
    }
    // The HTTPS port keeps serving everything.
    expect((await request(`${server.url}/api/secret`, {ca: server.ca, auth: user})).status).toBe(200)
    const state = JSON.parse(await readFile(path.join(configDir, 'state.json'), 'utf8'))
    expect(state.authListen).toBe(`${base}/auth`)
  })

  it('shares the throttle with the HTTPS port', async () => {
    const server = await startServer(tempDir(), {authListen: '127.0.0.1:0', throttle: {maxFailures: 3}})
    const address = server.authListener!.address
    const base = `http://127.0.0.1:${'port' in address ? address.port : 0}`
    for (let attempt = 0; attempt < 3; attempt++)
      expect((await request(`${base}/auth`, {auth: wrong})).status).toBe(401)
    expect((await request(`${server.url}/api/secret`, {ca: server.ca, auth: user})).status).toBe(429)
    const locked = await request(`${base}/auth`, {auth: user})
    expect(locked.status).toBe(429)
    expect(locked.headers['retry-after']).toBeDefined()
  })

  it('answers 400 there too to any query parameter but user', async () => {
    const server = await startServer(tempDir(), {authListen: '127.0.0.1:0'})
    const address = server.authListener!.address
    const base = `http://127.0.0.1:${'port' in address ? address.port : 0}`
    for (const query of ['?users=bob', '?user[]=bob', '?user=bob&page=2']) {
      const response = await request(`${base}/auth${query}`, {auth: user})
      expect(response.status, query).toBe(400)
      expect(response.headers['remote-user']).toBeUndefined()
    }
    expect((await request(`${base}/auth?user=${user.username}`, {auth: user})).status).toBe(200)
  })

  it('refuses a non-loopback address before starting anything', async () => {
    await expect(startServer(tempDir(), {authListen: '0.0.0.0:0'})).rejects.toMatchObject({exitCode: 2})
  })
})

describe('the /auth listener on a Unix socket', () => {
  it('answers /auth, is group-accessible only, and is removed at stop', async () => {
    const socketPath = path.join(tempDir(), 'auth.sock')
    const server = await startServer(tempDir(), {authListen: socketPath})
    expect(statSync(socketPath).isSocket()).toBe(true)
    expect(statSync(socketPath).mode & 0o777).toBe(0o660)
    const authorization = basicHeader(user.username, user.password)
    const admitted = await requestOverSocket(socketPath, '/auth', {authorization})
    expect(admitted.status).toBe(200)
    expect(admitted.headers['remote-user']).toBe(user.username)
    expect((await requestOverSocket(socketPath, '/auth')).status).toBe(401)
    expect((await requestOverSocket(socketPath, '/api/secret', {authorization})).status).toBe(404)
    await server.close()
    expect(existsSync(socketPath)).toBe(false)
  })

  it('replaces a stale socket nobody listens on, and refuses a file that is not a socket', async () => {
    const dir = tempDir()
    const socketPath = path.join(dir, 'auth.sock')
    // A server killed before it could remove its socket leaves the file behind.
    spawnSync(process.execPath, [
      '-e',
      `require('node:net').createServer().listen(${JSON.stringify(socketPath)}, () => process.kill(process.pid, 'SIGKILL'))`,
    ])
    expect(statSync(socketPath).isSocket()).toBe(true)
    const server = await startServer(tempDir(), {authListen: socketPath})
    const authorization = basicHeader(user.username, user.password)
    expect((await requestOverSocket(socketPath, '/auth', {authorization})).status).toBe(200)
    // A second server on the same socket finds it answering and leaves it alone.
    await expect(startServer(tempDir(), {authListen: socketPath})).rejects.toMatchObject({exitCode: 9})
    expect((await requestOverSocket(socketPath, '/auth', {authorization})).status).toBe(200)
    await server.close()

    const regularFile = path.join(dir, 'not-a-socket')
    writeFileSync(regularFile, 'keep me')
    await expect(startServer(tempDir(), {authListen: regularFile})).rejects.toMatchObject({exitCode: 2})
    expect(await readFile(regularFile, 'utf8')).toBe('keep me')
  })

  it('counts as 127.0.0.1 for --trust-proxy: believed when it is listed, ignored otherwise', async () => {
    const failures: FailedLogin[] = []
    const onFailedLogin = (failure: FailedLogin) => failures.push(failure)
    const headers = {
      authorization: basicHeader(wrong.username, wrong.password),
      'x-forwarded-for': '203.0.113.7',
    }
    const trusted = path.join(tempDir(), 'auth.sock')
    await startServer(tempDir(), {authListen: trusted, trustProxy: ['127.0.0.1'], onFailedLogin})
    await requestOverSocket(trusted, '/auth', headers)
    const untrusted = path.join(tempDir(), 'auth.sock')
    await startServer(tempDir(), {authListen: untrusted, onFailedLogin})
    await requestOverSocket(untrusted, '/auth', headers)
    expect(failures.map((failure) => failure.address)).toEqual(['203.0.113.7', 'unknown'])
  })
})

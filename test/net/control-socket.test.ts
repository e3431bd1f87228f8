import {spawnSync} from 'node:child_process'
import {chmodSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync} from 'node:fs'
import http from 'node:http'
import path from 'node:path'

import {describe, expect, it} from 'vitest'

import type {ClientsReport} from '../../src/web/control.js'
import {request} from '../helpers/https.js'
import {useTestServer, user} from '../helpers/server.js'
import {useTempDir} from '../helpers/temp.js'

const tempDir = useTempDir()
const startServer = useTestServer()
const wrong = {username: user.username, password: 'not it'}

interface Answer {
  status: number
  headers: http.IncomingHttpHeaders
  body: string
}

/** One request on the control socket, as the CLI sends it. */
function ask(
  socketPath: string,
  method: string,
  urlPath: string,
  body?: string,
  headers: Record<string, string> = body === undefined ? {} : {'content-type': 'application/json'},
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = http.request({socketPath, method, path: urlPath, headers, agent: false}, (res) => {
      let text = ''
      res.setEncoding('utf8')
      res.on('data', (chunk: string) => (text += chunk))
      res.on('end', () => resolve({status: res.statusCode ?? 0, headers: res.headers, body: text}))
    })
    req.on('error', reject)
    req.end(body)
  })
}

const socketOf = (configDir: string) => path.join(configDir, 'control.sock')

/** How a connection to `socketPath` by `nobody` ends: `connected`, or the error code. */
function connectAsNobody(socketPath: string): string {
  const script = `require('node:net').connect(${JSON.stringify(socketPath)})
    .on('connect', function () { console.log('connected'); this.destroy() })
    .on('error', (error) => console.log(error.code))`
  const result = spawnSync('runuser', ['-u', 'nobody', '--', process.execPath, '-e', script], {
    encoding: 'utf8',
  })
  return result.stdout.trim() || result.stderr
}

const canRunAsNobody = process.getuid?.() === 0 && spawnSync('runuser', ['--help']).status === 0

describe('the control socket', () => {
  it.runIf(canRunAsNobody)(
    'is made 0600 in the config directory, even under umask 0, and another user cannot connect to it',
    async () => {
      const base = tempDir()
      chmodSync(base, 0o755)
      const configDir = path.join(base, 'config')
      mkdirSync(configDir, {mode: 0o755})
      const umask = process.umask(0)
      try {
        await startServer(configDir)
      } finally {
        process.umask(umask)
      }
      const socketPath = socketOf(configDir)
      expect(statSync(socketPath).isSocket()).toBe(true)
      expect(statSync(socketPath).mode & 0o777).toBe(0o600)
      expect(connectAsNobody(socketPath)).toBe('EACCES')
      // The check can fail: with the mode widened, the same client gets in.
      chmodSync(socketPath, 0o666)
      expect(connectAsNobody(socketPath)).toBe('connected')
    },
  )

  it('is recorded in state.json, and removed when the server stops', async () => {
    const configDir = tempDir()
    const server = await startServer(configDir)
    const state = JSON.parse(readFileSync(path.join(configDir, 'state.json'), 'utf8')) as {control: string}
    expect(state.control).toBe(socketOf(configDir))
    await server.close()
    expect(existsSync(socketOf(configDir))).toBe(false)
  })

  it('replaces a stale socket that nobody listens on, and leaves a file that is not a socket intact', async () => {
    const configDir = tempDir()
    const socketPath = socketOf(configDir)
    // A server killed before it could remove its socket leaves the file behind.
    spawnSync(process.execPath, [
      '-e',
      `require('node:net').createServer().listen(${JSON.stringify(socketPath)}, () => process.kill(process.pid, 'SIGKILL'))`,
    ])
    expect(statSync(socketPath).isSocket()).toBe(true)
    await startServer(configDir)
    expect((await ask(socketPath, 'GET', '/clients')).status).toBe(200)

    const other = tempDir()
    writeFileSync(socketOf(other), 'keep me')
    await expect(startServer(other)).rejects.toMatchObject({
      exitCode: 2,
      message: `The control socket ${socketOf(other)} exists and is not a socket.`,
    })
    expect(readFileSync(socketOf(other), 'utf8')).toBe('keep me')
    expect(existsSync(path.join(other, 'state.json'))).toBe(false)
  })

  it('refuses to start in a config directory whose path is too long for a Unix socket, saying so', async () => {
    const configDir = path.join(tempDir(), 'x'.repeat(100))
    mkdirSync(configDir)
    await expect(startServer(configDir)).rejects.toMatchObject({
      exitCode: 8,
      message: expect.stringMatching(
        /control\.sock would be \d+ bytes long; a Unix socket's path may have 107\.$/,
      ),
    })
    expect(existsSync(path.join(configDir, 'state.json'))).toBe(false)
  })

  it('answers GET /clients and POST /unlock alone: 404 for other paths and query strings, 405 with Allow for other methods', async () => {
    const configDir = tempDir()
    await startServer(configDir)
    const socketPath = socketOf(configDir)
    for (const urlPath of ['/', '/clients/', '/clients?all', '/healthz', '/api/secret'])
      expect((await ask(socketPath, 'GET', urlPath)).status, urlPath).toBe(404)
    const post = await ask(socketPath, 'POST', '/clients', '{}')
    expect(post.status).toBe(405)
    expect(post.headers.allow).toBe('GET')
    const get = await ask(socketPath, 'GET', '/unlock')
    expect(get.status).toBe(405)
    expect(get.headers.allow).toBe('POST')
  })

  it('refuses an unlock without a JSON body naming one address or prefix, and one longer than 1 KiB', async () => {
    const configDir = tempDir()
    await startServer(configDir)
    const socketPath = socketOf(configDir)
    expect((await ask(socketPath, 'POST', '/unlock', '{"client":"127.0.0.1"}', {})).status).toBe(415)
    for (const body of [
      '',
      'null',
      '{}',
      '{"client":7}',
      '{"client":"example.com"}',
      '{"client":"10.0.0.0/8"}',
    ])
      expect((await ask(socketPath, 'POST', '/unlock', body)).status, body).toBe(400)
    const long = JSON.stringify({client: '127.0.0.1', padding: 'x'.repeat(2000)})
    expect((await ask(socketPath, 'POST', '/unlock', long)).status).toBe(400)
  })

  it('lists a client locked out over HTTPS and the last sign-ins, and an unlock lets the client in at once', async () => {
    const configDir = tempDir()
    const server = await startServer(configDir, {throttle: {maxFailures: 3}})
    const socketPath = socketOf(configDir)
    const url = `${server.url}/api/secret`
    expect((await request(url, {ca: server.ca, auth: user, localAddress: '127.0.0.3'})).status).toBe(200)
    for (let attempt = 0; attempt < 3; attempt++)
      await request(url, {ca: server.ca, auth: wrong, localAddress: '127.0.0.2'})
    expect((await request(url, {ca: server.ca, auth: user, localAddress: '127.0.0.2'})).status).toBe(429)

    const clients = JSON.parse((await ask(socketPath, 'GET', '/clients')).body) as ClientsReport
    expect(clients.lockedOut).toEqual([
      {
        client: '127.0.0.2',
        kind: 'address',
        since: expect.any(String),
        until: expect.any(String),
        failures: 3,
        lockouts: 1,
      },
    ])
    const [locked] = clients.lockedOut
    expect(Date.parse(locked!.until) - Date.parse(locked!.since)).toBe(60_000)
    expect(clients.signIns).toEqual([{user: user.username, address: '127.0.0.3', at: expect.any(String)}])

    const unlock = await ask(socketPath, 'POST', '/unlock', JSON.stringify({client: '127.0.0.2'}))
    expect(JSON.parse(unlock.body)).toEqual({client: '127.0.0.2', unlocked: true, lockedPrefix: null})
    expect((await request(url, {ca: server.ca, auth: user, localAddress: '127.0.0.2'})).status).toBe(200)
    const after = JSON.parse((await ask(socketPath, 'GET', '/clients')).body) as ClientsReport
    expect(after.lockedOut).toEqual([])
    expect(after.signIns.map((signIn) => signIn.address)).toEqual(['127.0.0.2', '127.0.0.3'])
  })
})

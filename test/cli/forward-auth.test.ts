import {existsSync} from 'node:fs'
import {readFile} from 'node:fs/promises'
import http from 'node:http'
import path from 'node:path'

import {describe, expect, it} from 'vitest'

import {runCli, serveArgs, useCli} from '../helpers/cli.js'
import {basicHeader, request} from '../helpers/https.js'
import {user} from '../helpers/server.js'
import {useTempDir} from '../helpers/temp.js'

const tempDir = useTempDir()
const startCli = useCli()
const credentials = {HOMEAUTH_USERNAME: user.username, HOMEAUTH_PASSWORD: user.password}

describe('serve --trust-proxy', () => {
  it('exits 2 with one line for a value that is not an address or CIDR range, writing nothing', async () => {
    for (const extra of [
      ['--trust-proxy', 'proxy.local'],
      ['--trust-proxy', '10.0.0.0/40'],
      ['--trust-proxy'],
    ]) {
      const configDir = tempDir()
      const result = await runCli(serveArgs(configDir, '--no-qr', ...extra), {env: credentials})
      expect(result.code, extra.join(' ')).toBe(2)
      expect(result.stderr.trim().split('\n')[0]).toMatch(/--trust-proxy/)
      expect(result.stdout).toBe('')
    }
  })

  it('warns once, naming the flag, when a local proxy asks /auth with X-Forwarded-For without it', async () => {
    const configDir = tempDir()
    const cli = startCli(serveArgs(configDir, '--no-qr'), {env: credentials})
    const [url] = await cli.waitForBanner()
    const ca = await readFile(path.join(configDir, 'ca.pem'), 'utf8')
    for (const client of ['203.0.113.1', '203.0.113.2'])
      await request(`${url}auth`, {ca, auth: user, headers: {'x-forwarded-for': client}})
    await cli.waitFor(/GET \/auth .*\n.*GET \/auth /)
    const warnings = cli.stderr.split('\n').filter((line) => line.includes('--trust-proxy'))
    expect(warnings).toEqual([
      'Warning: /auth is asked with x-forwarded-for from 127.0.0.1, a reverse proxy homeauth does not trust: all its clients share one failed-login count. If it is yours, start serve with --trust-proxy 127.0.0.1.',
    ])
  })
})

/** The status of a plain GET /auth with the right credentials over the Unix socket at `socketPath`. */
function authOverSocket(socketPath: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const authorization = basicHeader(user.username, user.password)
    const req = http.request({socketPath, path: '/auth', headers: {authorization}, agent: false}, (res) => {
      res.resume()
      res.on('end', () => resolve(res.statusCode ?? 0))
    })
    req.on('error', reject)
    req.end()
  })
}

describe('serve --auth-listen', () => {
  it('exits 2 with one line for an address that is not loopback, before listening', async () => {
    const result = await runCli(serveArgs(tempDir(), '--no-qr', '--auth-listen', '0.0.0.0:9091'), {
      env: credentials,
    })
    expect(result.code).toBe(2)
    expect(result.stderr.split('\n')[0]).toBe(
      'Error: --auth-listen 0.0.0.0:9091 is not a loopback address: it answers over plain HTTP, so only this machine may reach it.',
    )
    expect(result.stdout).toBe('')
  })

  it('shows the listener in the banner and answers /auth there', async () => {
    const cli = startCli(serveArgs(tempDir(), '--no-qr', '--auth-listen', '127.0.0.1:0'), {env: credentials})
    await cli.waitForBanner()
    const [, authUrl] = cli.stdout.match(
      /Forward auth for a proxy on this machine: (http:\/\/127\.0\.0\.1:\d+\/auth)/,
    )!
    const response = await request(authUrl!, {auth: user})
    expect(response.status).toBe(200)
    expect(response.headers['remote-user']).toBe(user.username)
  })

  it('is passed to a detached server, whose socket is gone once it stops', async () => {
    const configDir = tempDir()
    const socketPath = path.join(tempDir(), 'auth.sock')
    const args = ['serve', '--detach', '--config-dir', configDir, '--host', '127.0.0.1', '--port', '0']
    const detached = await runCli(
      [...args, '--auth-listen', socketPath, '-u', user.username, '--password-stdin'],
      {
        input: `${user.password}\n`,
      },
    )
    try {
      expect(detached.code, detached.stderr).toBe(0)
      expect(await authOverSocket(socketPath)).toBe(200)
      const state = JSON.parse(await readFile(path.join(configDir, 'state.json'), 'utf8'))
      expect(state.authListen).toBe(`unix:${socketPath}`)
    } finally {
      expect((await runCli(['stop', '--config-dir', configDir])).code).toBe(0)
    }
    expect(existsSync(socketPath)).toBe(false)
  })
})

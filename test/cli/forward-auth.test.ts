import {readFile} from 'node:fs/promises'
import path from 'node:path'

import {describe, expect, it} from 'vitest'

import {runCli, serveArgs, useCli} from '../helpers/cli.js'
import {request} from '../helpers/https.js'
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

import {existsSync, writeFileSync} from 'node:fs'
import {createServer, type Server} from 'node:https'
import type {AddressInfo} from 'node:net'
import path from 'node:path'

import type {Browser} from 'playwright-core'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {issueServerCertificate, type PemPair} from '../../src/certificates/authority.js'
import {loadOrCreateServerTls, readAuthority} from '../../src/certificates/store.js'
import {certutil, chromiumPath, homeTrusting, launchChromium} from '../helpers/browser.js'
import {useTestServer, user} from '../helpers/server.js'
import {useTempDir} from '../helpers/temp.js'

/** Every browser wait ends by this deadline, so a hang fails the test instead of stalling it. */
const browserTimeoutMs = 15_000
const tempDir = useTempDir()
const startServer = useTestServer()

describe.skipIf((!existsSync(chromiumPath) || !existsSync(certutil)) && !process.env.CI)(
  'a constrained CA in Chromium that trusts exactly it',
  () => {
    let browser: Browser
    let authority: PemPair
    const servers: Server[] = []

    /** An HTTPS server on 127.0.0.1 presenting `pair`, as whoever holds a copy of the CA key could run. */
    async function serve(pair: PemPair): Promise<number> {
      const server = createServer(pair, (_req, res) => res.end('signed in to your bank'))
      servers.push(server)
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
      return (server.address() as AddressInfo).port
    }

    let configDir: string
    beforeAll(async () => {
      configDir = path.join(tempDir(), 'config')
      await loadOrCreateServerTls(configDir)
      authority = (await readAuthority(configDir))!
      const caFile = path.join(tempDir(), 'ca.pem')
      writeFileSync(caFile, authority.cert)
      const home = await homeTrusting(tempDir(), caFile, browserTimeoutMs)
      browser = await launchChromium(
        ['--host-resolver-rules=MAP bank.example 127.0.0.1, MAP nas.home.arpa 127.0.0.1'],
        {env: {...process.env, HOME: home}, timeout: browserTimeoutMs},
      )
    }, 60_000)

    afterAll(async () => {
      await browser?.close()
      servers.forEach((server) => server.close())
    })

    it('opens the homeauth page', async () => {
      const server = await startServer(configDir)
      const url = `https://localhost:${server.listener.port}`
      const context = await browser.newContext({httpCredentials: {...user, origin: url}})
      const response = await context.newPage().then((page) => page.goto(`${url}/`))
      expect(response?.status()).toBe(200)
      await context.close()
    })

    it('opens a name inside the constraints signed with the CA key, and refuses bank.example signed with the same key', async () => {
      const inside = await serve(await issueServerCertificate(authority, ['nas.home.arpa']))
      const outside = await serve(await issueServerCertificate(authority, ['bank.example']))
      const context = await browser.newContext()
      const page = await context.newPage()
      expect((await page.goto(`https://nas.home.arpa:${inside}/`))?.status()).toBe(200)
      await expect(page.goto(`https://bank.example:${outside}/`)).rejects.toThrow(/net::ERR_CERT_INVALID/)
      await context.close()
    })
  },
)

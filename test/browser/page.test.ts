import {createHash, X509Certificate} from 'node:crypto'
import {existsSync, mkdtempSync, rmSync} from 'node:fs'
import os from 'node:os'
import path from 'node:path'

import {chromium, type Browser} from 'playwright-core'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {loadOrCreateServerTls} from '../../src/certificates/store.js'
import {useTestServer, user} from '../helpers/server.js'

const executablePath = '/usr/bin/chromium'
const startServer = useTestServer()

/** Chromium's flag for trusting exactly one certificate: the base64 SHA-256 of its public key (SPKI). */
function spkiHash(certPem: string): string {
  const spki = new X509Certificate(certPem).publicKey.export({type: 'spki', format: 'der'})
  return createHash('sha256').update(spki).digest('base64')
}

describe.skipIf(!existsSync(executablePath) && !process.env.CI)(
  'the page in a real browser (Chromium)',
  () => {
    let browser: Browser
    let configDir: string
    const secret = '<b>not bold</b> & "quoted"'

    beforeAll(async () => {
      configDir = mkdtempSync(path.join(os.tmpdir(), 'homeauth-browser-'))
      const {cert} = await loadOrCreateServerTls(configDir)
      browser = await chromium.launch({
        executablePath,
        args: [
          '--headless',
          '--no-sandbox',
          '--disable-gpu',
          '--disable-background-networking',
          '--disable-component-update',
          '--no-first-run',
          `--ignore-certificate-errors-spki-list=${spkiHash(cert)}`,
        ],
      })
    })

    afterAll(async () => {
      await browser?.close()
      rmSync(configDir, {recursive: true, force: true})
    })

    /** A server, and a browser context that trusts exactly its certificate and knows the credentials. */
    async function open() {
      const server = await startServer(configDir, {secret})
      const context = await browser.newContext({httpCredentials: {...user, origin: server.url}})
      return {url: server.url, context}
    }

    it('shows the secret as text, styled, with no Content-Security-Policy violation', async () => {
      const {url, context} = await open()
      const page = await context.newPage()
      const problems: string[] = []
      page.on('console', (message) => {
        if (message.type() === 'error') problems.push(message.text())
      })
      const response = await page.goto(`${url}/`)
      expect(response?.status()).toBe(200)
      expect(await page.textContent('#message')).toBe(secret)
      expect(await page.locator('#message b').count()).toBe(0)
      const background = await page.evaluate(
        "getComputedStyle(document.querySelector('main')).backgroundColor",
      )
      expect(background).toBe('rgb(255, 255, 255)')
      expect(problems).toEqual([])
      await context.close()
    })

    it('reads /api/secret as JSON with the same credentials', async () => {
      const {url, context} = await open()
      const page = await context.newPage()
      const response = await page.goto(`${url}/api/secret`)
      expect(await response?.json()).toEqual({message: secret})
      await context.close()
    })
  },
)

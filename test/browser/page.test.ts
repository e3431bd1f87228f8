import {createHash, X509Certificate} from 'node:crypto'
import {existsSync, mkdtempSync, rmSync} from 'node:fs'
import os from 'node:os'
import path from 'node:path'

import type {Browser, BrowserContextOptions, Page} from 'playwright-core'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {loadOrCreateServerTls} from '../../src/certificates/store.js'
import {chromiumPath, launchChromium} from '../helpers/browser.js'
import {useTestServer, user} from '../helpers/server.js'

const startServer = useTestServer()

/** Chromium's flag for trusting exactly one certificate: the base64 SHA-256 of its public key (SPKI). */
function spkiHash(certPem: string): string {
  const spki = new X509Certificate(certPem).publicKey.export({type: 'spki', format: 'der'})
  return createHash('sha256').update(spki).digest('base64')
}

describe.skipIf(!existsSync(chromiumPath) && !process.env.CI)('the page in a real browser (Chromium)', () => {
  let browser: Browser
  let configDir: string
  const secret = '<b>not bold</b> & "quoted"'

  beforeAll(async () => {
    configDir = mkdtempSync(path.join(os.tmpdir(), 'homeauth-browser-'))
    const {cert} = await loadOrCreateServerTls(configDir)
    browser = await launchChromium([`--ignore-certificate-errors-spki-list=${spkiHash(cert)}`])
  })

  afterAll(async () => {
    await browser?.close()
    rmSync(configDir, {recursive: true, force: true})
  })

  interface OpenOptions {
    secret?: string
    credentials?: typeof user
    context?: BrowserContextOptions
  }

  /** A server, and a browser context that trusts exactly its certificate and knows the credentials. */
  async function open(options: OpenOptions = {}) {
    const credentials = options.credentials ?? user
    const server = await startServer(configDir, {secret: options.secret ?? secret, credentials})
    const context = await browser.newContext({
      ...options.context,
      httpCredentials: {...credentials, origin: server.url},
    })
    return {url: server.url, context, server}
  }

  /** Console errors, dialogs and CSP violations seen by `page` from now on. */
  async function watchProblems(page: Page): Promise<() => Promise<string[]>> {
    const problems: string[] = []
    page.on('console', (message) => {
      if (message.type() === 'error') problems.push(`console: ${message.text()}`)
    })
    page.on('dialog', (dialog) => {
      problems.push(`dialog: ${dialog.message()}`)
      void dialog.dismiss()
    })
    await page.addInitScript(`
        window.cspViolations = []
        document.addEventListener('securitypolicyviolation', (event) => {
          window.cspViolations.push(event.violatedDirective + ' ' + event.blockedURI)
        })
      `)
    return async () => [...problems, ...(await page.evaluate<string[]>('window.cspViolations'))]
  }

  it('renders a hostile secret literally, with its script running and no dialog, console error or CSP violation', async () => {
    const hostile = "<img src=x onerror=alert(1)> $& $' $1 <b>not bold</b>"
    const {url, context} = await open({secret: hostile})
    const page = await context.newPage()
    const problems = await watchProblems(page)
    const response = await page.goto(`${url}/`)
    expect(response?.status()).toBe(200)
    expect(await page.textContent('#message')).toBe(hostile)
    expect(await page.locator('#message img, #message b').count()).toBe(0)
    expect(await page.textContent('#user')).toBe(user.username)
    // /app.js ran: it shows the copy button.
    await page.locator('#copy').waitFor({state: 'visible'})
    const background = await page.evaluate("getComputedStyle(document.querySelector('main')).backgroundColor")
    expect(background).toBe('rgb(255, 255, 255)')
    expect(await problems()).toEqual([])
    await context.close()
  })

  it('fits a 360 px phone and a desktop without horizontal scroll, in a light and a dark theme', async () => {
    const longSecret = `Wi-Fi key: ${'x7Qp'.repeat(30)} https://example.invalid/${'a'.repeat(80)}`
    const credentials = {username: `Jeff${'Lynne'.repeat(12)}`, password: 'ELO'}
    const viewports = [
      {isMobile: true, hasTouch: true, viewport: {width: 360, height: 740}},
      {viewport: {width: 1280, height: 800}},
    ]
    for (const device of viewports) {
      const backgrounds: string[] = []
      for (const colorScheme of ['light', 'dark'] as const) {
        // One server at a time: two on one config directory would share its control socket.
        const {url, context, server} = await open({
          secret: longSecret,
          credentials,
          context: {...device, colorScheme},
        })
        const page = await context.newPage()
        await page.goto(`${url}/`)
        const [scrollWidth, clientWidth] = await page.evaluate<[number, number]>(
          '[document.documentElement.scrollWidth, document.documentElement.clientWidth]',
        )
        expect(scrollWidth, `${device.viewport.width} px, ${colorScheme}`).toBeLessThanOrEqual(clientWidth)
        backgrounds.push(await page.evaluate('getComputedStyle(document.body).backgroundColor'))
        await context.close()
        await server.close()
      }
      expect(backgrounds[0]).not.toBe(backgrounds[1])
    }
  })

  it('puts the message on the clipboard with the copy button and says Copied', async () => {
    const message = 'line one\nline two: <tag> & $&'
    const {url, context} = await open({secret: message})
    await context.grantPermissions(['clipboard-read', 'clipboard-write'], {origin: url})
    const page = await context.newPage()
    await page.goto(`${url}/`)
    await page.click('#copy')
    await expect.poll(() => page.textContent('#copy')).toBe('Copied')
    expect(await page.evaluate('navigator.clipboard.readText()')).toBe(message)
    await context.close()
  })

  it('keeps the copy button hidden when JavaScript is off', async () => {
    const {url, context} = await open({context: {javaScriptEnabled: false}})
    const page = await context.newPage()
    await page.goto(`${url}/`)
    expect(await page.textContent('#message')).toBe(secret)
    expect(await page.locator('#copy').count()).toBe(1)
    expect(await page.locator('#copy').isHidden()).toBe(true)
    await context.close()
  })

  it('signs out through the page’s link: 401 with the challenge and a page that says what happened', async () => {
    const {url, context} = await open()
    const page = await context.newPage()
    await page.goto(`${url}/`)
    const signOut = page.waitForResponse(`${url}/logout`)
    await page.click('text=Sign out')
    const response = await signOut
    expect(response.status()).toBe(401)
    expect(await response.headerValue('www-authenticate')).toBe('Basic realm="homeauth", charset="UTF-8"')
    expect(await page.textContent('h1')).toBe('Signed out')
    await context.close()
  })

  it('answers /logout with 401 and the challenge to a browser that sends no credentials', async () => {
    const server = await startServer(configDir, {secret})
    const context = await browser.newContext()
    const page = await context.newPage()
    const answer = page.waitForResponse(`${server.url}/logout`)
    // Without credentials to offer, Chromium reports the challenge as a failed navigation.
    await page.goto(`${server.url}/logout`).catch(() => undefined)
    const response = await answer
    expect(response.status()).toBe(401)
    expect(await response.headerValue('www-authenticate')).toBe('Basic realm="homeauth", charset="UTF-8"')
    await context.close()
  })

  it('reads /api/secret as JSON with the same credentials', async () => {
    const {url, context} = await open()
    const page = await context.newPage()
    const response = await page.goto(`${url}/api/secret`)
    expect(await response?.json()).toEqual({message: secret})
    await context.close()
  })
})

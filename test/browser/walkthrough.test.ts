import {X509Certificate} from 'node:crypto'
import {existsSync, readFileSync} from 'node:fs'
import path from 'node:path'

import type {Browser, Page} from 'playwright-core'
import {parse as parsePlist} from 'plist'
import {afterEach, describe, expect, it} from 'vitest'

import {certutil, chromiumPath, homeTrusting, launchChromium} from '../helpers/browser.js'
import {runCli} from '../helpers/cli.js'
import {useTempDir} from '../helpers/temp.js'

/** Every browser wait ends by this deadline, so a hang fails the test instead of stalling it. */
const browserTimeoutMs = 15_000
const tempDir = useTempDir()
const user = {username: 'JeffLynne', password: 'Mr. Blue Sky'}
/** Markup and replacement patterns: the page must show them as text and run nothing. */
const secret = `<img src=x onerror=alert(1)> $& $' $1`

const androidPhone = {
  viewport: {width: 360, height: 740},
  isMobile: true,
  hasTouch: true,
  userAgent:
    'Mozilla/5.0 (Linux; Android 15; Pixel 9) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0.0.0 Mobile Safari/537.36',
}

interface TrustJson {
  urls: string[]
  localUrl: string
  caFingerprint: string
  caFile: string
}

const started: {configDir: string}[] = []
const browsers: Browser[] = []
afterEach(async () => {
  await Promise.all(browsers.splice(0).map((browser) => browser.close()))
  for (const {configDir} of started.splice(0))
    await runCli(['stop', '--config-dir', configDir, '--timeout', '2'])
})

/** What the README's quick start has a new user type: `init` with flags, then `serve --detach`. */
async function setUpAndServe(): Promise<{configDir: string; port: number; caFingerprint: string}> {
  const configDir = tempDir()
  const init = await runCli(
    [
      'init',
      '--config-dir',
      configDir,
      '--username',
      user.username,
      '--password-stdin',
      '--secret',
      secret,
      '--yes',
      '--json',
    ],
    {input: `${user.password}\n`},
  )
  expect(init.code, init.stderr).toBe(0)
  started.push({configDir})
  // No --host: every interface, as a user serving phones on the LAN runs it; port 0: the one it reports.
  const serve = await runCli(['serve', '--detach', '--config-dir', configDir, '--port', '0'])
  expect(serve.code, serve.stderr).toBe(0)
  const port = Number(serve.stdout.match(/https:\/\/localhost:(\d+)\//)![1])
  return {configDir, port, caFingerprint: JSON.parse(init.stdout).caFingerprint}
}

async function trustJson(configDir: string): Promise<TrustJson> {
  const trust = await runCli(['trust', '--config-dir', configDir, '--json'])
  expect(trust.code, trust.stderr).toBe(0)
  return JSON.parse(trust.stdout)
}

async function launch(env: NodeJS.ProcessEnv = process.env): Promise<Browser> {
  const browser = await launchChromium([], {env, timeout: browserTimeoutMs})
  browsers.push(browser)
  return browser
}

/** Resolves with `promise`, or rejects once `ms` have passed. */
async function within<T>(ms: number, what: string, promise: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} took longer than ${ms} ms`)), ms)
  })
  return Promise.race([promise, deadline]).finally(() => clearTimeout(timer))
}

/**
 * The status that answered a navigation to `url`. Without credentials to answer a 401 with,
 * Chromium ends the navigation with net::ERR_INVALID_AUTH_CREDENTIALS instead of showing the
 * 401 page; the response event still carries the status.
 */
async function navigationStatus(page: Page, url: string): Promise<number> {
  const answered = page.waitForResponse(
    (response) => response.request().isNavigationRequest() && response.url() === url,
  )
  answered.catch(() => {})
  await page.goto(url).catch((error: Error) => {
    if (!error.message.includes('ERR_INVALID_AUTH_CREDENTIALS')) throw error
  })
  return (await answered).status()
}

const hexOf = (text: string) => text.replace(/[^0-9A-F]/gi, '').toUpperCase()

describe.skipIf((!existsSync(chromiumPath) || !existsSync(certutil)) && !process.env.CI)(
  'the walkthrough a new user follows, in Chromium',
  () => {
    it('gets a browser from init to the secret: onboarding over plain HTTP, the downloaded CA trusted, sign-in, sign-out, fetch-secret, stop', async ({
      annotate,
    }) => {
      const {configDir, port, caFingerprint} = await setUpAndServe()
      const trust = await trustJson(configDir)
      expect(trust.caFingerprint).toBe(caFingerprint)
      expect(trust.localUrl).toBe(`http://localhost:${port}/`)
      // A phone scans the QR code of the first LAN address; a machine without one can only show localhost.
      const onboardingUrl = trust.urls[0] ?? trust.localUrl
      if (trust.urls.length === 0) await annotate('no LAN address here: onboarding through localUrl')
      const onboardingHost = new URL(onboardingUrl).host
      const httpsUrl = `https://localhost:${port}/`

      // 1. A phone's browser with no certificate exception: HTTPS warns, the plain-HTTP onboarding page
      // does not, and puts Android's download (ca.crt) first.
      const untrusting = await launch()
      const onboarding = await untrusting.newContext({...androidPhone, acceptDownloads: true})
      onboarding.setDefaultTimeout(browserTimeoutMs)
      const warned = await onboarding.newPage()
      await expect(warned.goto(httpsUrl)).rejects.toThrow(/ERR_CERT_AUTHORITY_INVALID/)
      // A fresh page: one left on Chromium's error page interrupts the next navigation.
      await warned.close()
      const page = await onboarding.newPage()
      const response = await page.goto(onboardingUrl)
      expect(response?.status()).toBe(200)
      const onboardingText = await page.locator('body').innerText()
      expect(hexOf(onboardingText)).toContain(hexOf(trust.caFingerprint))
      expect(onboardingText).toMatch(/compare it with the CA fingerprint your terminal shows/i)
      expect(await page.locator(`a[href="https://${onboardingHost}/"]`).count()).toBeGreaterThan(0)
      expect(await page.evaluate('document.documentElement.scrollWidth <= innerWidth')).toBe(true)

      const [download] = await Promise.all([
        page.waitForEvent('download'),
        page.locator('a[href$="ca.crt"]').first().click(),
      ])
      const caFile = path.join(tempDir(), 'ca.crt')
      await within(browserTimeoutMs, 'the ca.crt download', download.saveAs(caFile))
      const caDer = readFileSync(caFile)
      expect(new X509Certificate(caDer).fingerprint256).toBe(trust.caFingerprint)

      // The profile an iPhone installs from the same page holds that very CA as its one payload.
      const profileLink = page.locator('a[href$="homeauth.mobileconfig"]').first()
      const profile = await onboarding.request.get(
        new URL((await profileLink.getAttribute('href')) ?? '', onboardingUrl).href,
      )
      expect(profile.status()).toBe(200)
      const {PayloadContent: payloads} = parsePlist((await profile.body()).toString('utf8')) as {
        PayloadContent: {PayloadType: string; PayloadContent: Uint8Array}[]
      }
      expect(payloads).toHaveLength(1)
      expect(payloads[0]!.PayloadType).toBe('com.apple.security.root')
      expect(Buffer.from(payloads[0]!.PayloadContent).equals(caDer)).toBe(true)
      await onboarding.close()

      // 2. A new browser that trusts exactly the downloaded CA (an NSS database in its HOME), signed in.
      const trusting = await launch({
        ...process.env,
        HOME: await homeTrusting(tempDir(), caFile, browserTimeoutMs),
      })
      const signedIn = await trusting.newContext({
        httpCredentials: {...user, origin: `https://localhost:${port}`},
      })
      signedIn.setDefaultTimeout(browserTimeoutMs)
      const secretPage = await signedIn.newPage()
      const problems: string[] = []
      secretPage.on('console', (message) => {
        if (message.type() === 'error') problems.push(message.text())
      })
      secretPage.on('pageerror', (error) => problems.push(error.message))
      secretPage.on('dialog', (dialog) => {
        problems.push(`dialog: ${dialog.message()}`)
        void dialog.dismiss()
      })
      await secretPage.addInitScript(
        "document.addEventListener('securitypolicyviolation', (event) => console.error('CSP violation: ' + event.violatedDirective))",
      )
      expect((await secretPage.goto(httpsUrl))?.status()).toBe(200)
      expect(await secretPage.textContent('#message')).toBe(secret)
      expect(await secretPage.locator('#message img').count()).toBe(0)
      expect(await secretPage.locator('body').innerText()).toContain(user.username)
      expect(problems).toEqual([])

      // 3. /logout answers 401, even to a browser that keeps sending the credentials.
      expect(await navigationStatus(secretPage, `${httpsUrl}logout`)).toBe(401)
      await signedIn.close()

      // A context with httpCredentials answers every challenge again, so forgetting shows only where the
      // browser itself remembers the credentials, as after a person typed them once: here from the URL.
      const remembering = await trusting.newContext()
      remembering.setDefaultTimeout(browserTimeoutMs)
      const rememberingPage = await remembering.newPage()
      const typed = `https://${encodeURIComponent(user.username)}:${encodeURIComponent(user.password)}@localhost:${port}/`
      expect((await rememberingPage.goto(typed))?.status()).toBe(200)
      expect(await navigationStatus(rememberingPage, httpsUrl)).toBe(200)
      expect(await navigationStatus(rememberingPage, `${httpsUrl}logout`)).toBe(401)
      expect(await navigationStatus(rememberingPage, httpsUrl)).toBe(401)
      await remembering.close()

      // 4. The command-line client, then stop.
      const fetched = await runCli(['fetch-secret', '--config-dir', configDir], {
        env: {HOMEAUTH_PASSWORD: user.password},
      })
      expect(fetched.code, fetched.stderr).toBe(0)
      expect(fetched.stdout).toBe(`${secret}\n`)
      const stopped = await runCli(['stop', '--config-dir', configDir])
      expect(stopped.code, stopped.stderr).toBe(0)
      const status = await runCli(['status', '--config-dir', configDir, '--json'])
      expect(JSON.parse(status.stdout).running).toBe(false)
    }, 120_000)

    it('refuses plain HTTP that carries an Authorization header with 400, never 200 or 401', async () => {
      const {port} = await setUpAndServe()
      const localUrl = `http://localhost:${port}/`
      const right = `Basic ${Buffer.from(`${user.username}:${user.password}`).toString('base64')}`
      const wrong = `Basic ${Buffer.from(`${user.username}:wrong`).toString('base64')}`
      for (const authorization of [right, wrong, 'Bearer token']) {
        for (const target of ['', 'trust', 'ca.crt', 'api/secret', 'logout', 'no-such-page']) {
          const response = await fetch(new URL(target, localUrl), {
            headers: {authorization},
            redirect: 'manual',
            signal: AbortSignal.timeout(browserTimeoutMs),
          })
          expect(response.status, `${authorization.split(' ')[0]} /${target}`).toBe(400)
          expect(await response.text()).toContain('homeauth passwd')
        }
      }
    })
  },
)

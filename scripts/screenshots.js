#!/usr/bin/env node
// Writes the README's screenshots into docs/: the onboarding page (plain HTTP, what a phone opens
// first) and the secret page (HTTPS, signed in), each on a phone (360×740) and a desktop
// (1280×800), in the light and the dark colour scheme, each of the whole page.
// It starts the real server from dist/ on 127.0.0.1, port 0, with a temporary config directory.
// Usage: npm run screenshots (builds first; needs Debian's chromium at /usr/bin/chromium)
import {createHash, X509Certificate} from 'node:crypto'
import {mkdirSync, mkdtempSync, rmSync} from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import {fileURLToPath} from 'node:url'

import {chromium} from 'playwright-core'

import {startHomeauth} from '../dist/server/serve.js'

const docsDir = fileURLToPath(new URL('../docs/', import.meta.url))
const credentials = {username: 'JeffLynne', password: 'Mr. Blue Sky'}
const secret = 'The garage door code is 4711.'
const devices = {
  phone: {
    viewport: {width: 360, height: 740},
    isMobile: true,
    hasTouch: true,
    userAgent:
      'Mozilla/5.0 (Linux; Android 15; Pixel 9) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0.0.0 Mobile Safari/537.36',
  },
  desktop: {viewport: {width: 1280, height: 800}},
}
const colorSchemes = ['light', 'dark']

/** Chromium's flag for trusting exactly one certificate: the base64 SHA-256 of its public key (SPKI). */
function spkiHash(certPem) {
  const spki = new X509Certificate(certPem).publicKey.export({type: 'spki', format: 'der'})
  return createHash('sha256').update(spki).digest('base64')
}

const configDir = mkdtempSync(path.join(os.tmpdir(), 'homeauth-screenshots-'))
const server = await startHomeauth({
  configDir,
  credentials,
  secret,
  host: '127.0.0.1',
  port: 0,
})
const {port} = server.listener
const pages = {
  onboarding: {url: `http://127.0.0.1:${port}/`},
  secret: {
    url: `https://127.0.0.1:${port}/`,
    httpCredentials: {...credentials, origin: `https://127.0.0.1:${port}`},
  },
}
const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium',
  timeout: 30_000,
  args: [
    '--headless',
    '--no-sandbox',
    '--disable-gpu',
    '--no-first-run',
    `--ignore-certificate-errors-spki-list=${spkiHash(server.tls.cert)}`,
  ],
})
try {
  mkdirSync(docsDir, {recursive: true})
  for (const [pageName, {url, httpCredentials}] of Object.entries(pages)) {
    for (const [deviceName, device] of Object.entries(devices)) {
      for (const colorScheme of colorSchemes) {
        const context = await browser.newContext({...device, colorScheme, httpCredentials})
        const page = await context.newPage()
        page.setDefaultTimeout(15_000)
        const response = await page.goto(url)
        if (response?.status() !== 200) throw new Error(`${url} answered ${response?.status()}`)
        const file = path.join(docsDir, `${pageName}-${deviceName}-${colorScheme}.png`)
        await page.screenshot({path: file, fullPage: true})
        console.log(path.relative(process.cwd(), file))
        await context.close()
      }
    }
  }
} finally {
  await browser.close()
  await server.close()
  rmSync(configDir, {recursive: true, force: true})
}

import {execFile} from 'node:child_process'
import {mkdirSync} from 'node:fs'
import path from 'node:path'
import {promisify} from 'node:util'

import {chromium, type Browser, type LaunchOptions} from 'playwright-core'

/** Debian's chromium; never a browser downloaded by playwright. */
export const chromiumPath = '/usr/bin/chromium'
/** NSS's tool (Debian's libnss3-tools): Chromium on Linux trusts the roots in the NSS database in $HOME. */
export const certutil = '/usr/bin/certutil'

/** Headless flags that keep Chromium off the network it cannot reach here (see NOTES on browsers). */
const quietFlags = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--no-first-run',
]

/** Launches Debian's chromium headless, with `extraArgs` after the quiet flags. */
export function launchChromium(extraArgs: string[] = [], options: LaunchOptions = {}): Promise<Browser> {
  return chromium.launch({...options, executablePath: chromiumPath, args: [...quietFlags, ...extraArgs]})
}

/** Makes `home` a HOME whose NSS database (what Chromium on Linux trusts) holds exactly the CA in `caFile`. */
export async function homeTrusting(home: string, caFile: string, timeoutMs: number): Promise<string> {
  const database = `sql:${path.join(home, '.pki', 'nssdb')}`
  mkdirSync(path.join(home, '.pki', 'nssdb'), {recursive: true})
  const run = promisify(execFile)
  await run(certutil, ['-d', database, '-N', '--empty-password'], {timeout: timeoutMs})
  await run(certutil, ['-d', database, '-A', '-t', 'C,,', '-n', 'homeauth', '-i', caFile], {
    timeout: timeoutMs,
  })
  return home
}

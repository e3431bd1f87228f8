import {chromium, type Browser, type LaunchOptions} from 'playwright-core'

/** Debian's chromium; never a browser downloaded by playwright. */
export const chromiumPath = '/usr/bin/chromium'

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

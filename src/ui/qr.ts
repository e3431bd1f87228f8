// Commands that draw a code only sometimes (at a terminal, with --qr) import this module, and its QR
// encoder, only when they do.
import type {ChalkInstance} from 'chalk'
import {encode} from 'uqr'

import type {OnboardingUrls} from '../web/onboarding-urls.js'
import type {Output} from './output.js'

/** The light margin ISO/IEC 18004 asks for around a QR code, in modules. */
export const quietZone = 4

/** The modules of the QR code of `text` (true = dark), quiet zone included, from uqr's encoder. */
export function qrModules(text: string): boolean[][] {
  // Level L, the smallest code: a screen does not get scratched, and a small code fits short terminals.
  return encode(text, {ecc: 'L', border: quietZone}).data
}

/** Indexed by (upper module light ? 2 : 0) + (lower module light ? 1 : 0). */
const halfBlocks = [' ', '▄', '▀', '█']

/**
 * Two module rows per line, light modules drawn with half blocks and dark ones left blank (what
 * `qrencode -t UTF8` prints). Below an odd last row, the missing row counts as dark.
 */
export function halfBlockLines(modules: boolean[][]): string[] {
  const lines: string[] = []
  for (let row = 0; row < modules.length; row += 2) {
    const upper = modules[row]!
    const lower = modules[row + 1]
    lines.push(
      upper.map((dark, column) => halfBlocks[(dark ? 0 : 2) + (lower?.[column] === false ? 1 : 0)]).join(''),
    )
  }
  return lines
}

/**
 * The QR code of `text` as terminal lines. With colour, light modules are bright white on black,
 * so the code reads the same on light and dark terminals; without (NO_COLOR) they take the
 * terminal's text colour, which is right on the usual light-on-dark terminal and inverted, still
 * readable by most phone cameras, on a light one.
 */
export function renderQrCode(text: string, color: ChalkInstance): string[] {
  return halfBlockLines(qrModules(text)).map((line) => color.whiteBright.bgBlack(line))
}

/**
 * At a terminal: the QR code of the first onboarding URL and a line naming that URL, or one line
 * saying why there is no code. Nothing when stdout is not a terminal.
 */
export function printOnboardingCode(output: Output, onboarding: OnboardingUrls): void {
  const {out} = output
  if (!out.isTerminal) return
  const [url] = onboarding.urls
  if (url === undefined) {
    const reason =
      onboarding.loopbackHost === undefined
        ? 'this machine has no LAN address the server can be reached on.'
        : `the server listens on ${onboarding.loopbackHost} only, which other devices cannot reach (serve without --host listens on all interfaces).`
    return out.line(`No QR code: ${reason}`)
  }
  out.line([...renderQrCode(url, out.color), `Scan with your phone: ${out.color.cyan(url)}`].join('\n'))
}

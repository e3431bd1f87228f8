import {readFileSync} from 'node:fs'
import path from 'node:path'

import escapeHtml from 'escape-html'

import {templatesDir} from '../paths.js'
import {inlineStyleHashes} from './security-headers.js'
import {loadTemplate} from './template.js'

/** What changes from one request to the next. */
export interface PageRequest {
  /** The signed-in user's name, as verified; escaped in the page. */
  user: string
  /** The device that signed in with its own password, if one did; escaped in the page. */
  device?: string
  servedAt: Date
}

export interface IndexPage {
  /** The page for one request. */
  render(request: PageRequest): string
  /** The page's script, served as /app.js (the CSP allows no inline script). */
  script: string
  /** CSP hash sources of the page's inline <style> blocks. */
  styleHashes: string[]
}

const twoDigits = (value: number): string => String(value).padStart(2, '0')

/** `2026-11-30 14:03:12 UTC+01:00`: the server's local time, unambiguous without JavaScript. */
function formatServedAt(date: Date): string {
  const offset = -date.getTimezoneOffset()
  const sign = offset < 0 ? '-' : '+'
  const zone = `UTC${sign}${twoDigits(Math.floor(Math.abs(offset) / 60))}:${twoDigits(Math.abs(offset) % 60)}`
  const day = `${date.getFullYear()}-${twoDigits(date.getMonth() + 1)}-${twoDigits(date.getDate())}`
  const time = `${twoDigits(date.getHours())}:${twoDigits(date.getMinutes())}:${twoDigits(date.getSeconds())}`
  return `${day} ${time} ${zone}`
}

/**
 * Reads templates/index.html and app.js once, at start-up, with the message HTML-escaped and fixed
 * in the page, so `render` only escapes the user and device names and joins.
 */
export function loadIndexPage(message: string): IndexPage {
  const template = loadTemplate('index.html', {
    message: 'text',
    user: 'text',
    device: 'html',
    servedAt: 'text',
    servedAtIso: 'text',
  })
  const page = template.fill({message})
  return {
    render: ({user, device, servedAt}) =>
      page.render({
        user,
        device:
          device === undefined ? '' : ` on the device <strong id="device">${escapeHtml(device)}</strong>`,
        servedAt: formatServedAt(servedAt),
        servedAtIso: servedAt.toISOString(),
      }),
    script: readFileSync(path.join(templatesDir, 'app.js'), 'utf8'),
    styleHashes: inlineStyleHashes(template.source),
  }
}

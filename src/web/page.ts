import {createHash} from 'node:crypto'
import {readFileSync} from 'node:fs'
import path from 'node:path'

import escapeHtml from 'escape-html'

import {templatesDir} from '../paths.js'

/** What changes from one request to the next. */
export interface PageRequest {
  /** The signed-in user's name, as verified; escaped here. */
  user: string
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

const requestFields = ['user', 'servedAt', 'servedAtIso'] as const
type RequestField = (typeof requestFields)[number]

function isRequestField(name: string): name is RequestField {
  return (requestFields as readonly string[]).includes(name)
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
 * Reads templates/index.html and app.js once, at start-up. The template is split at its
 * `{{placeholders}}` here, with the message HTML-escaped and fixed, so `render` only escapes the
 * user name and joins. Nothing is ever substituted with String.replace: a replacement string
 * would expand `$&`-style patterns, and a message containing `{{user}}` stays text.
 */
export function loadIndexPage(
  message: string,
  template = readFileSync(path.join(templatesDir, 'index.html'), 'utf8'),
  script = readFileSync(path.join(templatesDir, 'app.js'), 'utf8'),
): IndexPage {
  const escapedMessage = escapeHtml(message)
  // split() with a capturing group: even indexes are text, odd ones placeholder names.
  const pieces = template.split(/\{\{(\w+)\}\}/).map((piece, index): string | {field: RequestField} => {
    if (index % 2 === 0) return piece
    if (piece === 'message') return escapedMessage
    if (isRequestField(piece)) return {field: piece}
    throw new Error(`templates/index.html has an unknown placeholder {{${piece}}}.`)
  })
  const styleHashes = inlineStyleHashes(template)

  function render({user, servedAt}: PageRequest): string {
    const values: Record<RequestField, string> = {
      user: escapeHtml(user),
      servedAt: formatServedAt(servedAt),
      servedAtIso: servedAt.toISOString(),
    }
    return pieces.map((piece) => (typeof piece === 'string' ? piece : values[piece.field])).join('')
  }

  return {render, script, styleHashes}
}

/** CSP hash sources ('sha256-…') of the inline <style> blocks in `html`. */
export function inlineStyleHashes(html: string): string[] {
  return [...html.matchAll(/<style>([\s\S]*?)<\/style>/g)].map(
    ([, css]) =>
      `sha256-${createHash('sha256')
        .update(css ?? '')
        .digest('base64')}`,
  )
}

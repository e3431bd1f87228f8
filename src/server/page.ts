import {createHash} from 'node:crypto'
import {readFileSync} from 'node:fs'
import path from 'node:path'

import escapeHtml from 'escape-html'

import {templatesDir} from '../paths.js'

export interface Page {
  html: string
  /** CSP hash sources of the page's inline <style> blocks. */
  styleHashes: string[]
}

/** Renders templates/index.html with `message` HTML-escaped, once, at start-up. */
export function renderIndexPage(
  message: string,
  template = readFileSync(path.join(templatesDir, 'index.html'), 'utf8'),
): Page {
  const escaped = escapeHtml(message)
  // A replacer function, not a string: a replacement string would expand `$&`, `$'` and the like.
  const html = template.replaceAll('{{message}}', () => escaped)
  return {html, styleHashes: inlineStyleHashes(html)}
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

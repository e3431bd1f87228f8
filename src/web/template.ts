import {readFileSync} from 'node:fs'
import path from 'node:path'

import escapeHtml from 'escape-html'

import {templatesDir} from '../paths.js'

/**
 * How a value goes into its placeholder: `text` is HTML-escaped; `html` is markup our own code built
 * from escaped parts, inserted as it is.
 */
export type Insert = 'text' | 'html'

export interface Template<Name extends string> {
  /** The template file as read, before any value went in (its inline styles are hashed for the CSP). */
  source: string
  /** The page with every placeholder filled. */
  render(values: Record<Name, string>): string
  /** The template with `values` in their placeholders for good: values known at start-up are escaped once. */
  fill<Given extends Name>(values: Record<Given, string>): Template<Exclude<Name, Given>>
}

type Piece<Name extends string> = string | {name: Name}

/**
 * Reads templates/`file` once, at start-up, and splits it at its `{{placeholders}}`. Every placeholder
 * in the file must be one of `inserts`, and each of `inserts` must be in the file: a mismatch throws
 * here, not on a request. Values are joined in, never substituted with String.replace: a replacement
 * string would expand `$&`-style patterns, and a value that contains `{{user}}` stays text.
 */
export function loadTemplate<Name extends string>(
  file: string,
  inserts: Record<Name, Insert>,
  source = readFileSync(path.join(templatesDir, file), 'utf8'),
): Template<Name> {
  const where = `templates/${file}`
  const isName = (name: string): name is Name => Object.hasOwn(inserts, name)
  // split() with a capturing group: even indexes are text, odd ones placeholder names.
  const pieces = source.split(/\{\{(\w+)\}\}/).map((piece, index): Piece<Name> => {
    if (index % 2 === 0) return piece
    if (isName(piece)) return {name: piece}
    throw new Error(`${where} has an unknown placeholder {{${piece}}}.`)
  })
  checkPlaceholders(where, pieces, Object.keys(inserts))
  const inserted = (name: Name, value: string): string =>
    inserts[name] === 'text' ? escapeHtml(value) : value
  return templateOf(source, where, pieces, inserted)
}

/** Throws unless each of `names` is a placeholder still open among `pieces`. */
function checkPlaceholders(where: string, pieces: Piece<string>[], names: Iterable<string>): void {
  const open = new Set(pieces.flatMap((piece) => (typeof piece === 'string' ? [] : [piece.name])))
  for (const name of names) {
    if (!open.has(name)) throw new Error(`${where} has no placeholder {{${name}}} to fill.`)
  }
}

function templateOf<Name extends string>(
  source: string,
  where: string,
  pieces: Piece<Name>[],
  inserted: (name: Name, value: string) => string,
): Template<Name> {
  return {
    source,
    render(values) {
      return pieces
        .map((piece) => (typeof piece === 'string' ? piece : inserted(piece.name, values[piece.name])))
        .join('')
    },
    fill<Given extends Name>(values: Record<Given, string>) {
      const given = new Map<string, string>(Object.entries(values))
      checkPlaceholders(where, pieces, given.keys())
      const filled = pieces.map((piece): Piece<Exclude<Name, Given>> => {
        if (typeof piece === 'string') return piece
        const value = given.get(piece.name)
        return value === undefined ? (piece as {name: Exclude<Name, Given>}) : inserted(piece.name, value)
      })
      return templateOf(source, where, filled, inserted)
    },
  }
}

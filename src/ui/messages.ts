import {homeauthCommand} from '../invocation.js'
import type {Output} from './output.js'

/** A user-facing failure: one line for what is wrong, one per suggestion for what to do. */
export function printFailure(output: Output, message: string, suggestions: string[]): void {
  const {err} = output
  err.line(
    [err.color.red(`Error: ${message}`), ...suggestions.map((suggestion) => `  Try: ${suggestion}`)].join(
      '\n',
    ),
  )
}

export function printWarning(output: Output, message: string): void {
  output.err.line(output.err.color.yellow(`Warning: ${message}`))
}

/**
 * Secrets given as flags can be read by every local user in `ps`: say so in one line, once per run,
 * with the alternatives. Not with --json when stderr is not a terminal: a script that parses the
 * JSON has chosen its flags, and nobody reads the warning there.
 */
export function printVisibleSecretWarnings(
  output: Output,
  flags: {password?: string; secret?: string; json?: boolean},
): void {
  if (flags.json && !output.err.isTerminal) return
  const visible = [
    ...(flags.password === undefined ? [] : [['-p/--password', '--password-stdin, HOMEAUTH_PASSWORD']]),
    ...(flags.secret === undefined ? [] : [['--secret', '--secret-file, HOMEAUTH_SECRET']]),
  ]
  if (visible.length === 0) return
  const named = visible.map(([flag]) => flag).join(' and ')
  const alternatives = visible.map(([, instead]) => instead).join(', ')
  printWarning(
    output,
    `${named} ${visible.length > 1 ? 'are' : 'is'} visible to other users in ps; prefer ${alternatives} or ${homeauthCommand('init')}.`,
  )
}

/** The secret alone on stdout, so `$(homeauth fetch-secret)` captures exactly it. */
export function printSecret(output: Output, message: string): void {
  output.out.line(message)
}

/** What a CA may vouch for, as `init`, `cert`, `status` and `trust` say it. */
export function constraintNote(constrained: boolean): string {
  return constrained
    ? "only the home's names and private addresses (name constraints)"
    : `any name: it has no name constraints (${homeauthCommand('init --new-ca')} makes a CA that vouches only for the home)`
}

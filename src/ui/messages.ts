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

/** Secrets given as flags can be read by every local user in `ps`: say so once, with the alternatives. */
export function printVisibleSecretWarnings(
  output: Output,
  flags: {password?: string; secret?: string},
): void {
  if (flags.password !== undefined) {
    printWarning(
      output,
      `-p/--password is visible to other users in ps; prefer --password-stdin, HOMEAUTH_PASSWORD or ${homeauthCommand('init')}.`,
    )
  }
  if (flags.secret !== undefined) {
    printWarning(
      output,
      `--secret is visible to other users in ps; prefer --secret-file, HOMEAUTH_SECRET or ${homeauthCommand('init')}.`,
    )
  }
}

/** The secret alone on stdout, so `$(homeauth fetch-secret)` captures exactly it. */
export function printSecret(output: Output, message: string): void {
  output.out.line(message)
}

import {writeSync} from 'node:fs'

/**
 * Names the file descriptor on which a background `serve` reports why it failed to start: `serve
 * --detach` sets it for the child it starts, and reads the report from a pipe there.
 */
export const failureFdVariable = 'HOMEAUTH_FAILURE_FD'

/** Why a background server did not start, as the foreground would have shown it. */
export interface StartFailure {
  exitCode: number
  message: string
  suggestions: string[]
}

/** Writes `failure` as one JSON line to the descriptor `env` names; nothing when it names none. */
export function reportStartFailure(env: NodeJS.ProcessEnv, failure: StartFailure): void {
  const fd = Number(env[failureFdVariable])
  if (!Number.isInteger(fd) || fd < 3) return
  try {
    writeSync(fd, `${JSON.stringify(failure)}\n`)
  } catch {
    // The parent listens only while the server starts: a failure after that has nobody to tell.
  }
}

/** The failure a child reported on its descriptor, or undefined when it reported none. */
export function parseStartFailure(text: string): StartFailure | undefined {
  try {
    const report = JSON.parse(text.split('\n')[0]!) as Partial<StartFailure>
    const valid =
      Number.isInteger(report.exitCode) &&
      typeof report.message === 'string' &&
      Array.isArray(report.suggestions) &&
      report.suggestions.every((suggestion) => typeof suggestion === 'string')
    return valid ? (report as StartFailure) : undefined
  } catch {
    return undefined
  }
}

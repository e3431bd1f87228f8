/** The exit codes homeauth promises (docs/scripting.md, "Exit codes"); one table, used by every command. */
export const ExitCode = {
  ok: 0,
  unexpected: 1,
  usage: 2,
  notRunning: 3,
  credentialsRejected: 4,
  throttled: 5,
  untrustedCertificate: 6,
  timedOut: 7,
  invalidSetup: 8,
  portUnavailable: 9,
  unexpectedResponse: 10,
  /** Ctrl+C at a prompt (128 + SIGINT, as a shell reports it). */
  cancelled: 130,
} as const

export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode]

/** A failure the user can act on: one sentence, what to try next, and the exit code from the table. */
export class HomeauthError extends Error {
  readonly exitCode: ExitCode
  readonly suggestions: string[]

  constructor(message: string, options: {exitCode: ExitCode; suggestions?: string[]; cause?: unknown}) {
    super(message, {cause: options.cause})
    this.name = 'HomeauthError'
    this.exitCode = options.exitCode
    this.suggestions = options.suggestions ?? []
  }
}

/** What every `--json` failure prints on stdout: `{"error": {"code", "message", "suggestions"}}`. */
export interface ErrorDocument {
  error: {code: number; message: string; suggestions: string[]}
}

export function errorDocument(code: number, message: string, suggestions: string[]): ErrorDocument {
  return {error: {code, message, suggestions}}
}

export function usageError(message: string, suggestions: string[] = []): HomeauthError {
  return new HomeauthError(message, {exitCode: ExitCode.usage, suggestions})
}

export function setupError(message: string, suggestions: string[] = [], cause?: unknown): HomeauthError {
  return new HomeauthError(message, {exitCode: ExitCode.invalidSetup, suggestions, cause})
}

export function errorCode(error: unknown): string | undefined {
  return error instanceof Error && 'code' in error && typeof error.code === 'string' ? error.code : undefined
}

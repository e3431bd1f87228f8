import {publicHomeauthCommand} from '../invocation.js'

/** What the answers that refuse a password know of the server, so that their advice can help. */
export interface PasswordAdvice {
  /** The password came with the server's start (-u/-p, the environment, a prompt): passwd cannot change it. */
  credentialsAtStartup?: boolean
}

/**
 * How to change the password on the server, as a sentence without its full stop: passwd for stored
 * users, a restart for a server given its own. `code` marks up the command (HTML pages).
 */
export function changePasswordAdvice(
  {credentialsAtStartup}: PasswordAdvice,
  code = (command: string) => command,
): string {
  return credentialsAtStartup
    ? `Restart ${code(publicHomeauthCommand('serve'))} on the server with a new password (it was given when the server started)`
    : `Set a new password with ${code(publicHomeauthCommand('passwd'))} on the server`
}

/** `command` as HTML code; it is one of two fixed names and a word (see publicHomeauthCommand), so needs no escaping. */
export const htmlCode = (command: string) => `<code>${command}</code>`

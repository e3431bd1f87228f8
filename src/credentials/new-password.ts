import type {Prompts} from '../prompts.js'
import {usageError} from '../errors.js'
import {credentialProblem, shortPasswordProblem} from './credentials.js'

export interface NewPasswordOptions {
  /** --allow-short-password: accept a password shorter than the minimum. */
  allowShort?: boolean
}

/**
 * Asks for a new password twice, masked, until both entries match (three tries); a short one is
 * asked again with the reason, unless `allowShort`. With `emptyKeepsCurrent` (a re-run of init),
 * an empty first entry keeps the current password: undefined.
 */
export async function askNewPassword(
  ask: Prompts,
  username: string,
  options?: NewPasswordOptions & {emptyKeepsCurrent?: false},
): Promise<string>
export async function askNewPassword(
  ask: Prompts,
  username: string,
  options: NewPasswordOptions & {emptyKeepsCurrent: true},
): Promise<string | undefined>
export async function askNewPassword(
  ask: Prompts,
  username: string,
  options: NewPasswordOptions & {emptyKeepsCurrent?: boolean} = {},
): Promise<string | undefined> {
  const {emptyKeepsCurrent = false, allowShort = false} = options
  const message = emptyKeepsCurrent
    ? `New password for ${username} (leave empty to keep the current one)`
    : `New password for ${username}`
  const validate = (value: string) =>
    (emptyKeepsCurrent && value === '') || (credentialProblem('password', value) ?? true)
  // A short password is asked for again on a fresh, empty prompt: inquirer's validation would keep
  // the masked text typed so far, and a person cannot see what to delete.
  const askFirst = async (): Promise<string> => {
    for (;;) {
      const password = await ask.password(message, validate)
      const short = password === '' || allowShort ? undefined : shortPasswordProblem(password)
      if (short === undefined) return password
      ask.tell(`${short} Choose a longer one.`)
    }
  }
  for (let attempt = 0; attempt < 3; attempt++) {
    const password = await askFirst()
    if (password === '') return undefined
    if ((await ask.password('The same password again')) === password) return password.normalize('NFC')
    ask.tell('The two passwords differ; please try again.')
  }
  throw usageError('The passwords did not match three times.')
}

import type {Readable} from 'node:stream'

import {credentialProblem, shortPasswordProblem} from '../credentials/credentials.js'
import {usageError} from '../errors.js'

/**
 * The one seam for questions asked at a terminal: commands ask through `prompts`, tests replace it
 * or drive the real prompts through a pseudo terminal. Prompts write to stderr so stdout stays data.
 */
type Validate = (value: string) => true | string

async function ask<T>(question: Record<string, unknown>): Promise<T> {
  const {default: inquirer} = await import('inquirer')
  const prompt = inquirer.createPromptModule({output: process.stderr})
  const answers = (await prompt([{...question, name: 'value'} as never])) as {value: T}
  return answers.value
}

export const prompts = {
  password(message: string, validate?: Validate): Promise<string> {
    return ask({type: 'password', message, mask: '*', validate})
  },

  input(message: string, defaultValue?: string, validate?: Validate): Promise<string> {
    return ask({type: 'input', message, default: defaultValue, validate})
  },

  confirm(message: string, defaultValue = false): Promise<boolean> {
    return ask({type: 'confirm', message, default: defaultValue})
  },
}

export type Prompts = typeof prompts

/** Whether a person can answer questions: prompts are never shown when stdin is not a terminal. */
export function canPrompt(stdin: Readable & {isTTY?: boolean} = process.stdin): boolean {
  return stdin.isTTY === true
}

/** Ctrl+C at an inquirer prompt rejects with ExitPromptError: a normal way out, not a failure. */
export function isPromptCancelled(error: unknown): boolean {
  return error instanceof Error && error.name === 'ExitPromptError'
}

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
      console.error(`${short} Choose a longer one.`)
    }
  }
  for (let attempt = 0; attempt < 3; attempt++) {
    const password = await askFirst()
    if (password === '') return undefined
    if ((await ask.password('The same password again')) === password) return password.normalize('NFC')
    console.error('The two passwords differ; please try again.')
  }
  throw usageError('The passwords did not match three times.')
}

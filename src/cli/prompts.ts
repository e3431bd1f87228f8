import type {Readable} from 'node:stream'

import type {Prompts, Validate} from '../prompts.js'

async function ask<T>(question: Record<string, unknown>): Promise<T> {
  const {default: inquirer} = await import('inquirer')
  const prompt = inquirer.createPromptModule({output: process.stderr})
  const answers = (await prompt([{...question, name: 'value'} as never])) as {value: T}
  return answers.value
}

/**
 * The questions asked at a terminal, through inquirer. Commands hand them to modules through
 * `BaseCommand.prompts` (only when stdin is a terminal); tests drive them through a pseudo terminal.
 * Prompts write to stderr so stdout stays data.
 */
export const terminalPrompts: Prompts = {
  password(message: string, validate?: Validate): Promise<string> {
    return ask({type: 'password', message, mask: '*', validate})
  },

  input(message: string, defaultValue?: string, validate?: Validate): Promise<string> {
    return ask({type: 'input', message, default: defaultValue, validate})
  },

  confirm(message: string, defaultValue = false): Promise<boolean> {
    return ask({type: 'confirm', message, default: defaultValue})
  },

  tell(message: string): void {
    process.stderr.write(`${message}\n`)
  },
}

/** The prompts when a person can answer them; none when stdin is not a terminal. */
export function terminalPromptsFor(stdin: Readable & {isTTY?: boolean} = process.stdin): Prompts | undefined {
  return stdin.isTTY === true ? terminalPrompts : undefined
}

/** Ctrl+C at an inquirer prompt rejects with ExitPromptError: a normal way out, not a failure. */
export function isPromptCancelled(error: unknown): boolean {
  return error instanceof Error && error.name === 'ExitPromptError'
}

import type {Readable} from 'node:stream'

/**
 * The one seam for questions asked at a terminal: commands ask through `prompts`, tests replace it
 * or drive the real prompts through a pseudo terminal. Prompts write to stderr so stdout stays data.
 */
export const prompts = {
  async password(message: string): Promise<string> {
    const {default: inquirer} = await import('inquirer')
    const ask = inquirer.createPromptModule({output: process.stderr})
    const {value} = await ask([{type: 'password', name: 'value', message, mask: '*'}])
    return value as string
  },

  async input(message: string, defaultValue?: string): Promise<string> {
    const {default: inquirer} = await import('inquirer')
    const ask = inquirer.createPromptModule({output: process.stderr})
    const {value} = await ask([{type: 'input', name: 'value', message, default: defaultValue}])
    return value as string
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

import os from 'node:os'
import type {Readable} from 'node:stream'

import {usageError} from '../errors.js'
import {canPrompt, type Prompts} from '../ui/prompts.js'
import {credentialProblem, normalizeCredentials, type Credentials} from './credentials.js'

export interface CredentialInputs {
  /** -u / --username */
  username?: string
  /** -p / --password */
  password?: string
  /** --password-stdin */
  passwordStdin?: boolean
  env: NodeJS.ProcessEnv
  stdin: Readable & {isTTY?: boolean}
  prompts: Prompts
  /** The user name whose password hash `init` stored, if any: used when nothing else is given. */
  storedUsername?: string
}

export interface ResolvedCredentials {
  /** The credentials to accept; undefined means the hash stored in config.json. */
  credentials?: Credentials
  username: string
  /** Where they came from, for the banner: never the password itself. */
  source: string
}

interface Given {
  value: string
  source: string
}

const maxStdinBytes = 64 * 1024

/** Reads the first line of `stream` and strips one trailing "\n" or "\r\n" (as `docker login --password-stdin`). */
export async function readFirstLine(stream: Readable): Promise<string> {
  let text = ''
  for await (const chunk of stream) {
    text += typeof chunk === 'string' ? chunk : (chunk as Buffer).toString('utf8')
    if (text.includes('\n') || text.length > maxStdinBytes) break
  }
  stream.pause()
  if (text.length > maxStdinBytes) throw usageError('The password on stdin is longer than 64 KiB.')
  const newline = text.indexOf('\n')
  const line = newline === -1 ? text : text.slice(0, newline + 1)
  return line.replace(/\r?\n$/, '')
}

export function checkCredential(kind: 'user name' | 'password', value: string): string {
  const problem = credentialProblem(kind, value)
  if (problem) throw usageError(problem, [`Choose another ${kind}.`])
  return value.normalize('NFC')
}

/** The user name from -u, else HOMEAUTH_USERNAME; undefined when neither is given. */
export function givenUsername(inputs: CredentialInputs): Given | undefined {
  if (inputs.username !== undefined)
    return {value: checkCredential('user name', inputs.username), source: '-u'}
  if (inputs.env.HOMEAUTH_USERNAME)
    return {value: checkCredential('user name', inputs.env.HOMEAUTH_USERNAME), source: 'HOMEAUTH_USERNAME'}
  return undefined
}

/** The password from -p, else --password-stdin, else HOMEAUTH_PASSWORD; undefined when none is given. */
export async function givenPassword(inputs: CredentialInputs): Promise<Given | undefined> {
  if (inputs.password !== undefined && inputs.passwordStdin) {
    throw usageError('--password and --password-stdin cannot be used together.', ['Keep --password-stdin.'])
  }
  if (inputs.password !== undefined)
    return {value: checkCredential('password', inputs.password), source: '-p'}
  if (inputs.passwordStdin) {
    const line = await readFirstLine(inputs.stdin)
    if (line === '') throw usageError('The password read from stdin is empty.')
    return {value: checkCredential('password', line), source: '--password-stdin'}
  }
  if (inputs.env.HOMEAUTH_PASSWORD)
    return {value: checkCredential('password', inputs.env.HOMEAUTH_PASSWORD), source: 'HOMEAUTH_PASSWORD'}
  return undefined
}

export function noTerminal(missing: string, suggestion: string) {
  return usageError(`No ${missing} given, and stdin is not a terminal to ask for one.`, [suggestion])
}

function describeSource(username: string, password: string): string {
  if (username === '-u' && password === '-p') return 'the command line (-u/-p)'
  if (username === 'HOMEAUTH_USERNAME' && password === 'HOMEAUTH_PASSWORD') {
    return 'the environment (HOMEAUTH_USERNAME/HOMEAUTH_PASSWORD)'
  }
  return `user name from ${username}, password from ${password}`
}

/**
 * Finds the credentials for `serve`: -u/-p (or --password-stdin), else HOMEAUTH_USERNAME/HOMEAUTH_PASSWORD,
 * else the hash stored by `init`, else a prompt on a terminal, else a usage error naming the flags.
 * Never prompts without a terminal.
 */
export async function resolveCredentials(inputs: CredentialInputs): Promise<ResolvedCredentials> {
  let username = givenUsername(inputs)
  let password = await givenPassword(inputs)
  if (!username && !password && inputs.storedUsername !== undefined) {
    return {username: inputs.storedUsername, source: 'the hash stored in config.json'}
  }
  if (!username || !password) {
    if (!canPrompt(inputs.stdin)) {
      throw noTerminal(
        username ? 'password' : 'user name',
        'Pass --username with --password-stdin, set HOMEAUTH_USERNAME and HOMEAUTH_PASSWORD, or store them with homeauth init.',
      )
    }
    username ??= {
      value: checkCredential('user name', await inputs.prompts.input('User name', os.userInfo().username)),
      source: 'the prompt',
    }
    password ??= {
      value: checkCredential('password', await inputs.prompts.password(`Password for ${username.value}`)),
      source: 'the prompt',
    }
  }
  const credentials = normalizeCredentials({username: username.value, password: password.value})
  return {
    credentials,
    username: credentials.username,
    source: describeSource(username.source, password.source),
  }
}

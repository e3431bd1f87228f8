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
  if (inputs.password !== undefined && inputs.passwordStdin) {
    throw usageError('--password and --password-stdin cannot be used together.', ['Keep --password-stdin.'])
  }
  let username: string | undefined
  let usernameSource = '-u'
  if (inputs.username !== undefined) username = inputs.username
  else if (inputs.env.HOMEAUTH_USERNAME)
    [username, usernameSource] = [inputs.env.HOMEAUTH_USERNAME, 'HOMEAUTH_USERNAME']

  let password: string | undefined
  let passwordSource = '-p'
  if (inputs.password !== undefined) password = inputs.password
  else if (inputs.passwordStdin) {
    password = await readFirstLine(inputs.stdin)
    passwordSource = '--password-stdin'
    if (password === '') throw usageError('The password read from stdin is empty.')
  } else if (inputs.env.HOMEAUTH_PASSWORD)
    [password, passwordSource] = [inputs.env.HOMEAUTH_PASSWORD, 'HOMEAUTH_PASSWORD']

  if (username === undefined && password === undefined && inputs.storedUsername !== undefined) {
    return {username: inputs.storedUsername, source: 'the hash stored in config.json'}
  }
  if (username === undefined || password === undefined) {
    if (!canPrompt(inputs.stdin)) {
      const missing = username === undefined ? 'user name' : 'password'
      throw usageError(`No ${missing} given, and stdin is not a terminal to ask for one.`, [
        'Pass --username with --password-stdin, set HOMEAUTH_USERNAME and HOMEAUTH_PASSWORD, or store them with homeauth init.',
      ])
    }
    if (username === undefined) {
      username = await inputs.prompts.input('User name', os.userInfo().username)
      usernameSource = 'the prompt'
    }
    if (password === undefined) {
      password = await inputs.prompts.password(`Password for ${username}`)
      passwordSource = 'the prompt'
    }
  }

  const problem = credentialProblem('user name', username) ?? credentialProblem('password', password)
  if (problem) throw usageError(problem, ['Choose another user name or password.'])
  const credentials = normalizeCredentials({username, password})
  return {credentials, username: credentials.username, source: describeSource(usernameSource, passwordSource)}
}

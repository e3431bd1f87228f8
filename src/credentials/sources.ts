import type {Readable} from 'node:stream'

import {usageError} from '../errors.js'
import {homeauthCommand} from '../invocation.js'
import type {Prompts} from '../prompts.js'
import {
  credentialProblem,
  normalizeCredentials,
  shortPasswordProblem,
  type Credentials,
} from './credentials.js'
import {osUsername} from './os-user.js'

export interface CredentialInputs {
  /** -u / --username */
  username?: string
  /** -p / --password */
  password?: string
  /** --password-stdin */
  passwordStdin?: boolean
  env: NodeJS.ProcessEnv
  stdin: Readable
  /** The questions a person at a terminal answers; absent when stdin is not a terminal. */
  prompts?: Prompts
  /** The users whose password hashes config.json stores, if any: used when nothing else is given. */
  storedUsernames?: string[]
  /** Told, in one line, about input that is ignored (one of HOMEAUTH_USERNAME/HOMEAUTH_PASSWORD alone). */
  warn?: (message: string) => void
}

export interface ResolvedCredentials {
  /** The credentials to accept; undefined means the hash stored in config.json. */
  credentials?: Credentials
  /** Who may sign in: the one user given, or every stored user (the first one made by init). */
  usernames: string[]
  /** Where they came from, for the banner: never the password itself. */
  source: string
}

interface Given {
  value: string
  source: string
}

const maxStdinBytes = 64 * 1024

/**
 * Reads the first line of `stream` and strips one trailing "\n" or "\r\n" (as `docker login --password-stdin`).
 * The stream is left open and paused with what follows the line pushed back, so prompts can still read
 * it (iterating with `for await` and breaking out would destroy it). Bytes are gathered before decoding,
 * so a UTF-8 character split between two chunks comes out whole.
 */
export function readFirstLine(stream: Readable): Promise<string> {
  return new Promise((resolve, reject) => {
    const line: Buffer[] = []
    let size = 0
    const finish = (rest?: Buffer | string) => {
      stream.off('data', onData).off('end', finish).off('error', fail)
      stream.pause()
      if (rest) stream.unshift(rest)
      if (size > maxStdinBytes) return reject(usageError('The password on stdin is longer than 64 KiB.'))
      const text = Buffer.concat(line).toString('utf8')
      resolve(text.replace(/\r?\n$/, ''))
    }
    const fail = (error: Error) => {
      stream.off('data', onData).off('end', finish).off('error', fail)
      reject(error)
    }
    const onData = (chunk: Buffer | string) => {
      const bytes = typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : chunk
      // 0x0a never occurs inside a multi-byte UTF-8 sequence: the line ends at the first one.
      const newline = bytes.indexOf(0x0a)
      const taken = newline === -1 ? bytes : bytes.subarray(0, newline + 1)
      line.push(taken)
      size += taken.length
      if (newline !== -1) {
        const rest =
          typeof chunk === 'string' ? chunk.slice(chunk.indexOf('\n') + 1) : bytes.subarray(newline + 1)
        finish(rest.length > 0 ? rest : undefined)
      } else if (size > maxStdinBytes) finish()
    }
    if (stream.readableEnded) return resolve('')
    stream.on('data', onData).on('end', finish).on('error', fail)
    stream.resume()
  })
}

export function checkCredential(kind: 'user name' | 'password', value: string): string {
  const problem = credentialProblem(kind, value)
  if (problem) throw usageError(problem, [`Choose another ${kind}.`])
  return value.normalize('NFC')
}

/** `password` as a new password to store: refused (exit 2) when it is short, unless `allowShort` (--allow-short-password). */
export function checkNewPassword(password: string, allowShort: boolean): string {
  const problem = allowShort ? undefined : shortPasswordProblem(password)
  if (problem) {
    throw usageError(problem, ['Choose a longer one, or pass --allow-short-password if you mean it.'])
  }
  return password
}

/** A new password from -p, --password-stdin or HOMEAUTH_PASSWORD, checked as `checkNewPassword` does; undefined when none is given. */
export async function givenNewPassword(
  inputs: CredentialInputs,
  allowShort: boolean,
): Promise<string | undefined> {
  const given = await givenPassword(inputs)
  return given && checkNewPassword(given.value, allowShort)
}

/** The user name from -u, else HOMEAUTH_USERNAME; undefined when neither is given. */
export function givenUsername(inputs: CredentialInputs): Given | undefined {
  return commandLineUsername(inputs) ?? environmentUsername(inputs)
}

/** The password from -p, else --password-stdin, else HOMEAUTH_PASSWORD; undefined when none is given. */
export async function givenPassword(inputs: CredentialInputs): Promise<Given | undefined> {
  return (await commandLinePassword(inputs)) ?? environmentPassword(inputs)
}

function commandLineUsername(inputs: CredentialInputs): Given | undefined {
  if (inputs.username === undefined) return undefined
  return {value: checkCredential('user name', inputs.username), source: '-u'}
}

async function commandLinePassword(inputs: CredentialInputs): Promise<Given | undefined> {
  if (inputs.password !== undefined && inputs.passwordStdin) {
    throw usageError('--password and --password-stdin cannot be used together.', ['Keep --password-stdin.'])
  }
  if (inputs.password !== undefined)
    return {value: checkCredential('password', inputs.password), source: '-p'}
  if (!inputs.passwordStdin) return undefined
  // At a terminal the line would be echoed as it is typed: read it through the masked prompt instead.
  const line = inputs.prompts ? await inputs.prompts.password('Password') : await readFirstLine(inputs.stdin)
  if (line === '') throw usageError('The password read from stdin is empty.')
  return {value: checkCredential('password', line), source: '--password-stdin'}
}

function environmentUsername({env}: CredentialInputs): Given | undefined {
  const value = env.HOMEAUTH_USERNAME
  return value ? {value: checkCredential('user name', value), source: 'HOMEAUTH_USERNAME'} : undefined
}

function environmentPassword({env}: CredentialInputs): Given | undefined {
  const value = env.HOMEAUTH_PASSWORD
  return value ? {value: checkCredential('password', value), source: 'HOMEAUTH_PASSWORD'} : undefined
}

export function noTerminalError(missing: string, suggestion: string) {
  return usageError(`No ${missing} given, and stdin is not a terminal to ask for one.`, [suggestion])
}

function describeSource(username: string, password: string): string {
  if (username === '-u' && password === '-p') return 'the command line (-u/-p)'
  if (username === 'HOMEAUTH_USERNAME' && password === 'HOMEAUTH_PASSWORD') {
    return 'the environment (HOMEAUTH_USERNAME/HOMEAUTH_PASSWORD)'
  }
  return `user name from ${username}, password from ${password}`
}

function resolved(username: Given, password: Given): ResolvedCredentials {
  const credentials = normalizeCredentials({username: username.value, password: password.value})
  return {
    credentials,
    usernames: [credentials.username],
    source: describeSource(username.source, password.source),
  }
}

/** Asks at a terminal for the half of the credentials that is missing; without a terminal, names the flags. */
async function askForMissing(
  inputs: CredentialInputs,
  username: Given | undefined,
  password: Given | undefined,
): Promise<ResolvedCredentials> {
  const {prompts} = inputs
  if (!prompts) {
    if (username) {
      throw noTerminalError(
        'password',
        'Pass --password-stdin with --username (HOMEAUTH_PASSWORD is used only with HOMEAUTH_USERNAME, not with --username).',
      )
    }
    if (password) {
      throw noTerminalError(
        'user name',
        'Pass --username with the password (HOMEAUTH_USERNAME is used only with HOMEAUTH_PASSWORD, not with a password flag).',
      )
    }
    throw noTerminalError(
      'user name',
      `Pass --username with --password-stdin, set HOMEAUTH_USERNAME and HOMEAUTH_PASSWORD, or store them with ${homeauthCommand('init')}.`,
    )
  }
  username ??= {
    value: checkCredential('user name', await prompts.input('User name', osUsername())),
    source: 'the prompt',
  }
  password ??= {
    value: checkCredential('password', await prompts.password(`Password for ${username.value}`)),
    source: 'the prompt',
  }
  return resolved(username, password)
}

/** The warning for one of HOMEAUTH_USERNAME and HOMEAUTH_PASSWORD set without the other. */
function loneVariableWarning(env: NodeJS.ProcessEnv): string {
  const [set, missing] = env.HOMEAUTH_USERNAME
    ? ['HOMEAUTH_USERNAME', 'HOMEAUTH_PASSWORD']
    : ['HOMEAUTH_PASSWORD', 'HOMEAUTH_USERNAME']
  return `${set} is ignored because ${missing} is not set; set both to take the credentials from the environment.`
}

/**
 * Finds the credentials for `serve`, each source a complete pair, never mixed:
 * 1. -u with -p or --password-stdin (one of them alone: the other is asked at a terminal);
 * 2. HOMEAUTH_USERNAME with HOMEAUTH_PASSWORD, only when both are set (one alone is ignored, with a warning);
 * 3. the hashes stored by `init` and `user add`;
 * 4. a prompt on a terminal; else a usage error naming the flags. Never prompts without a terminal.
 */
export async function resolveCredentials(inputs: CredentialInputs): Promise<ResolvedCredentials> {
  const flagUsername = commandLineUsername(inputs)
  const flagPassword = await commandLinePassword(inputs)
  if (flagUsername && flagPassword) return resolved(flagUsername, flagPassword)
  if (flagUsername || flagPassword) return askForMissing(inputs, flagUsername, flagPassword)

  const {env} = inputs
  if (env.HOMEAUTH_USERNAME && env.HOMEAUTH_PASSWORD)
    return resolved(environmentUsername(inputs)!, environmentPassword(inputs)!)
  if (env.HOMEAUTH_USERNAME || env.HOMEAUTH_PASSWORD) inputs.warn?.(loneVariableWarning(env))
  const stored = inputs.storedUsernames ?? []
  if (stored.length > 0) {
    return {
      usernames: stored,
      source: stored.length === 1 ? 'the hash stored in config.json' : 'the hashes stored in config.json',
    }
  }
  return askForMissing(inputs, undefined, undefined)
}

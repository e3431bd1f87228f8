import {promises as fs} from 'node:fs'

import {errorCode, setupError, usageError} from '../errors.js'

export const defaultSecret = 'Hello from homeauth: only you can read this.'
const maxSecretBytes = 64 * 1024

export interface SecretInputs {
  secret?: string
  secretFile?: string
  env: NodeJS.ProcessEnv
  /** The message stored by `init`. */
  stored?: string
}

/**
 * The secret message: --secret, else --secret-file (one trailing newline dropped), else
 * HOMEAUTH_SECRET, else the stored one, else the default.
 */
export async function resolveSecret(inputs: SecretInputs): Promise<string> {
  let secret = inputs.secret ?? inputs.env.HOMEAUTH_SECRET ?? inputs.stored
  if (inputs.secretFile !== undefined) {
    const file = inputs.secretFile
    const stats = await fs.stat(file).catch((error: unknown) => {
      throw setupError(`The secret file ${file} cannot be read (${errorCode(error) ?? 'error'}).`, [
        'Check the path given to --secret-file.',
      ])
    })
    if (!stats.isFile()) throw setupError(`The secret file ${file} is not a regular file.`)
    if (stats.size > maxSecretBytes) throw setupError(`The secret file ${file} is larger than 64 KiB.`)
    secret = (await fs.readFile(file, 'utf8')).replace(/\r?\n$/, '')
  }
  if (secret === undefined) return defaultSecret
  if (secret.trim() === '')
    throw usageError('The secret message is empty.', ['Give it some text with --secret or --secret-file.'])
  return secret
}

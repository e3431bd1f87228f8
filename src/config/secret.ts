import {usageError} from '../errors.js'
import {readUserFile} from './user-files.js'

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
    const text = await readUserFile({
      file: inputs.secretFile,
      what: 'secret',
      flag: '--secret-file',
      secret: true,
      maxBytes: maxSecretBytes,
    })
    secret = text.replace(/\r?\n$/, '')
  }
  if (secret === undefined) return defaultSecret
  if (secret.trim() === '')
    throw usageError('The secret message is empty.', ['Give it some text with --secret or --secret-file.'])
  return secret
}

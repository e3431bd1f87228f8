import {constants, promises as fs} from 'node:fs'

import {errorCode, setupError} from '../errors.js'
import {checkPrivateMode} from './files.js'

export interface UserFile {
  /** The path as the user gave it. */
  file: string
  /** What it holds, for messages: "The <what> file … does not exist." */
  what: string
  /** The flag that named it, for the suggestion. */
  flag: string
  /** What to do when it cannot be used; "Check the path given to <flag>." unless given. */
  suggestion?: string
  /** It holds a secret (a key, the secret message): refused when group or others may read it. */
  secret?: boolean
  /** Refused when larger than this. */
  maxBytes?: number
}

/**
 * Reads a file the user named with a flag (--key, --secret-file, --ca …). A missing, unreadable,
 * irregular, too large or (for a secret) too open file is one sentence naming it and the flag.
 */
export async function readUserFile({
  file,
  what,
  flag,
  suggestion,
  secret,
  maxBytes,
}: UserFile): Promise<string> {
  const name = `The ${what} file ${file}`
  const checkPath = [suggestion ?? `Check the path given to ${flag}.`]
  let handle: fs.FileHandle
  try {
    // O_NONBLOCK: a FIFO opens at once (and is refused below as not a regular file) instead of hanging.
    handle = await fs.open(file, constants.O_RDONLY | constants.O_NONBLOCK)
  } catch (error) {
    const code = errorCode(error)
    const reason = code === 'ENOENT' ? 'does not exist' : `cannot be read (${code ?? 'error'})`
    throw setupError(`${name} ${reason}.`, checkPath, error)
  }
  try {
    // Checked on the open file, so the file that passed the checks is the one that is read.
    const stats = await handle.stat()
    if (!stats.isFile()) throw setupError(`${name} is not a regular file.`, checkPath)
    if (secret) checkPrivateMode(file, stats.mode, name)
    if (maxBytes !== undefined && stats.size > maxBytes) {
      throw setupError(`${name} is larger than ${maxBytes / 1024} KiB.`, checkPath)
    }
    return await handle.readFile('utf8')
  } finally {
    await handle.close()
  }
}

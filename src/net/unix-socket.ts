import {promises as fs} from 'node:fs'
import net from 'node:net'

import {ExitCode, HomeauthError, errorCode, usageError} from '../errors.js'
import {bind} from './address.js'

/** How the failures of a socket path name it, and where else the user may put it. */
export interface SocketAdvice {
  /** The socket as a message names it: `--auth-listen /run/auth.sock`. */
  where: string
  /** What to do instead, as the end of a sentence: `choose another --auth-listen path`. */
  elsewhere: string
}

/** Whether something accepts connections on the Unix socket at `socketPath`. */
function socketAnswers(socketPath: string): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = net.connect(socketPath)
    probe.once('connect', () => {
      probe.destroy()
      resolve(true)
    })
    probe.once('error', () => resolve(false))
  })
}

/**
 * Removes a socket file left by a server that did not stop cleanly. Only a socket nobody listens
 * on: a regular file of that name, or a socket another server answers on, is refused instead.
 */
export async function removeStaleSocket(socketPath: string, advice: SocketAdvice): Promise<void> {
  const stats = await fs.lstat(socketPath).catch((error: unknown) => {
    if (errorCode(error) === 'ENOENT') return undefined
    throw error
  })
  if (!stats) return
  if (!stats.isSocket()) {
    throw usageError(`${advice.where} exists and is not a socket.`, [
      `Remove that file if it is not needed, or ${advice.elsewhere}.`,
    ])
  }
  if (await socketAnswers(socketPath)) {
    throw new HomeauthError(`Cannot listen on ${socketPath}: another server is already listening there.`, {
      exitCode: ExitCode.portUnavailable,
      suggestions: [`Stop the other server, or ${advice.elsewhere}.`],
    })
  }
  await fs.rm(socketPath, {force: true})
}

/**
 * Binds `server` to a new Unix socket at `socketPath` with `mode`. Connecting needs write permission
 * on the socket, so it must never exist with a wider mode, even for a moment (a chmod after bind
 * leaves the umask's mode, 0775 under umask 002, until it runs): the umask is narrowed around
 * listen() instead, which creates the socket synchronously, before any other JavaScript runs.
 */
export function bindSocket(server: net.Server, socketPath: string, mode: number): Promise<void> {
  const previous = process.umask(0o777 & ~mode)
  try {
    return bind(server, {socketPath})
  } finally {
    process.umask(previous)
  }
}

import http, {type RequestListener} from 'node:http'

import {listenError} from './address.js'
import {ConnectionTracker, type Timeouts} from './connections.js'
import {setupError} from '../errors.js'
import {bindSocket, removeStaleSocket} from './unix-socket.js'

/**
 * The control socket's mode: the owner alone. Whoever can connect may list who signs in from where
 * and lift lockouts, which is the config directory's owner's business only (root can anyway).
 */
export const controlSocketMode = 0o600

/** The longest path a Unix socket may have on Linux (sun_path is 108 bytes with its NUL); Node would cut a longer one short. */
const maxSocketPathBytes = 107

export interface ControlListenOptions {
  socketPath: string
  handler: RequestListener
  timeouts?: Partial<Timeouts>
}

export interface ControlListener {
  socketPath: string
  /** Stops accepting, lets in-flight requests finish, then cuts what is left; Node removes the socket file. */
  close(): Promise<void>
  closeAllConnections(): void
}

/**
 * Starts the control channel: plain HTTP on a Unix socket that only this user can connect to
 * (`controlSocketMode`, set as it is made), never a network port. A socket left by a server that
 * did not stop cleanly is replaced.
 */
export async function startControlListener(options: ControlListenOptions): Promise<ControlListener> {
  const {socketPath} = options
  const length = Buffer.byteLength(socketPath)
  if (length > maxSocketPathBytes) {
    throw setupError(
      `The control socket ${socketPath} would be ${length} bytes long; a Unix socket's path may have ${maxSocketPathBytes}.`,
      ['Use a config directory with a shorter path (--config-dir or HOMEAUTH_CONFIG_DIR).'],
    )
  }
  const connections = new ConnectionTracker(options.timeouts)
  const server = http.createServer(connections.httpOptions())
  connections.serve(server, options.handler, 'connection')
  connections.accept(server, {maxConnections: 16, maxPerClient: undefined})
  await removeStaleSocket(socketPath, {
    where: `The control socket ${socketPath}`,
    elsewhere: 'use another --config-dir',
  })
  await bindSocket(server, socketPath, controlSocketMode).catch((error: unknown) => {
    throw listenError(error, {
      where: `the control socket ${socketPath}`,
      inUse: 'Stop the other server on this config directory.',
      denied: 'Check that this user owns the config directory.',
      notHere: 'Use another --config-dir.',
    })
  })
  return {
    socketPath,
    closeAllConnections: connections.closeAll,
    close: () => connections.close(server, [server]),
  }
}

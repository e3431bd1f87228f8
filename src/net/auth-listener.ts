import http, {type RequestListener} from 'node:http'
import net, {type AddressInfo} from 'node:net'
import path from 'node:path'

import {usageError} from '../errors.js'
import {
  bind,
  bracketHost,
  listenError,
  splitHostPort,
  type ListenAddress,
  type ListenAdvice,
} from './address.js'
import {ConnectionTracker, defaultConnectionLimits, type Timeouts} from './connections.js'
import {bindSocket, removeStaleSocket} from './unix-socket.js'

/** Where --auth-listen serves /auth: a loopback address and port, or a Unix socket. */
export type AuthAddress = ListenAddress

/**
 * The socket's mode: owner and group. A proxy usually runs as its own user (www-data, caddy), so the
 * owner alone would shut it out; the group lets the user admit it (a group both share, or the
 * directory's setgid group) without opening the socket to every local user.
 */
export const authSocketMode = 0o660

/**
 * Parses --auth-listen: `127.0.0.1:PORT` (any 127.x address), `[::1]:PORT`, `localhost:PORT`, or a
 * Unix socket path (anything with a `/`, so `9091` is never taken for a file name; made absolute). The listener speaks plain HTTP, so any
 * other address is refused: credentials must never cross a network unencrypted.
 */
export function parseAuthListen(value: string): AuthAddress {
  if (value.includes('/')) return {socketPath: path.resolve(value)}
  const given = splitHostPort(value)
  if (!given) {
    throw usageError(`--auth-listen ${JSON.stringify(value)} is not ADDRESS:PORT or a socket path.`, [
      'Pass e.g. --auth-listen 127.0.0.1:9091, --auth-listen [::1]:9091, or a socket path with a / in it: --auth-listen ./auth.sock.',
    ])
  }
  const host =
    given.host.toLowerCase() === 'localhost' ? '127.0.0.1' : given.host === '[::1]' ? '::1' : given.host
  // An IPv6 address only in brackets: `::1:9091` could be read as an address without a port.
  const loopback = (net.isIPv4(host) && host.startsWith('127.')) || given.host === '[::1]'
  if (!loopback) {
    throw usageError(
      `--auth-listen ${value} is not a loopback address: it answers over plain HTTP, so only this machine may reach it.`,
      ['Use 127.0.0.1 or [::1]; a proxy on another machine asks /auth on the HTTPS port.'],
    )
  }
  return {host, port: given.port}
}

/** The address as a person reads it: `http://127.0.0.1:9091/auth` or `unix:/run/…/auth.sock`. */
export function describeAuthAddress(address: AuthAddress): string {
  if ('socketPath' in address) return `unix:${address.socketPath}`
  return `http://${bracketHost(address.host)}:${address.port}/auth`
}

/** How the failures of --auth-listen on `address` name it, and what they suggest. */
function authListenAdvice(address: AuthAddress): ListenAdvice {
  return {
    where: `${describeAuthAddress(address)} (--auth-listen)`,
    inUse: 'Stop the other program, or choose another --auth-listen port.',
    denied: 'Choose a port above 1023, or a socket path in a directory this user may write.',
    notHere: 'Use 127.0.0.1 or [::1].',
  }
}

export interface AuthListenOptions {
  /** Answers every request on it (the app with /auth alone). */
  handler: RequestListener
  address: AuthAddress
  timeouts?: Partial<Timeouts>
  /** Connections open at once, at most; the default total otherwise. */
  maxConnections?: number
}

export interface AuthListener {
  server: http.Server
  /** Where it listens, with the port chosen for port 0. */
  address: AuthAddress
  /** Stops accepting, lets in-flight requests finish, then cuts what is left; removes the socket file. */
  close(): Promise<void>
  closeAllConnections(): void
}

/**
 * Starts the plain-HTTP listener for /auth, with the main listener's timeouts, header limit and
 * connection cap; a Unix socket is made with `authSocketMode`, group-accessible.
 */
export async function startAuthListener(options: AuthListenOptions): Promise<AuthListener> {
  const connections = new ConnectionTracker(options.timeouts)
  const server = http.createServer(connections.httpOptions())
  connections.serve(server, options.handler, 'connection')
  // The total cap alone: only the proxy talks to this listener, carrying every client on its connections.
  connections.accept(server, {
    maxConnections: options.maxConnections ?? defaultConnectionLimits.maxConnections,
    maxPerClient: undefined,
  })

  const {address} = options
  if ('socketPath' in address) {
    await removeStaleSocket(address.socketPath, {
      where: `--auth-listen ${address.socketPath}`,
      elsewhere: 'choose another --auth-listen path',
    })
  }
  const bound =
    'socketPath' in address ? bindSocket(server, address.socketPath, authSocketMode) : bind(server, address)
  await bound.catch((error: unknown) => {
    throw listenError(error, authListenAdvice(address))
  })
  return {
    server,
    address:
      'socketPath' in address ? address : {host: address.host, port: (server.address() as AddressInfo).port},
    closeAllConnections: connections.closeAll,
    // Node removes the socket file when the server closes.
    close: () => connections.close(server, [server]),
  }
}

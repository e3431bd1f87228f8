import type net from 'node:net'

import {ExitCode, HomeauthError, errorCode, usageError} from '../errors.js'

/** Where a listener binds: a host and port (port 0 lets the system choose), or a Unix socket. */
export type ListenAddress = {host: string; port: number} | {socketPath: string}

/** `host` as it stands before `:PORT` in a URL or a message: an IPv6 address in brackets. */
export function bracketHost(host: string): string {
  return host.includes(':') ? `[${host}]` : host
}

/** `host` as a socket takes it: without the brackets of an IPv6 address (a URL's hostname keeps them). */
export function unbracketHost(host: string): string {
  return host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host
}

/**
 * `HOST:PORT` split at its last colon, the host as written (an IPv6 address keeps its brackets);
 * undefined unless the port is a number up to 65535.
 */
export function splitHostPort(value: string): {host: string; port: number} | undefined {
  const separator = value.lastIndexOf(':')
  const port = value.slice(separator + 1)
  if (separator === -1 || !/^\d{1,5}$/.test(port) || Number(port) > 65_535) return undefined
  return {host: value.slice(0, separator), port: Number(port)}
}

/** Binds `server` to `address`, both IPv6 and IPv4 on '::'; rejects with Node's error (see listenError). */
export function bind(server: net.Server, address: ListenAddress): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject)
    const listening = () => {
      server.off('error', reject)
      resolve()
    }
    if ('socketPath' in address) server.listen(address.socketPath, listening)
    else server.listen({host: address.host, port: address.port, ipv6Only: false}, listening)
  })
}

/** How a listener's failures name its address, and what each suggests doing instead. */
export interface ListenAdvice {
  /** The address as the message names it. */
  where: string
  /** Another program has it (EADDRINUSE). */
  inUse: string
  /** This user may not bind it (EACCES). */
  denied: string
  /** It is not an address of this machine, or a name that does not resolve. */
  notHere: string
}

/**
 * The one sentence and exit code for a failed bind: the address taken or forbidden is exit code 9
 * (another port will do), an address this machine does not have is a usage error; any other error
 * is unexpected and kept as it is.
 */
export function listenError(error: unknown, advice: ListenAdvice): Error {
  const failed = `Cannot listen on ${advice.where}`
  switch (errorCode(error)) {
    case 'EADDRINUSE':
      return new HomeauthError(`${failed}: another program is already using it.`, {
        exitCode: ExitCode.portUnavailable,
        suggestions: [advice.inUse],
      })
    case 'EACCES':
      return new HomeauthError(`${failed}: this user is not permitted to bind it.`, {
        exitCode: ExitCode.portUnavailable,
        suggestions: [advice.denied],
      })
    case 'EADDRNOTAVAIL':
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return usageError(`${failed}: that address is not on this machine.`, [advice.notHere])
    default:
      return error instanceof Error ? error : new Error(String(error))
  }
}

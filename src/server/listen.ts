import type {IncomingMessage, ServerResponse} from 'node:http'
import https from 'node:https'
import type {AddressInfo, Socket} from 'node:net'

import type {PemPair} from '../certificates/authority.js'
import {ExitCode, HomeauthError, errorCode, usageError} from '../errors.js'

export interface Timeouts {
  /** A TLS handshake must complete within this (Node's default is 120 s). */
  handshakeMs: number
  /** The request headers must arrive within this (Node's default is 60 s). */
  headersMs: number
  /** The whole request must arrive within this (Node's default is 300 s). */
  requestMs: number
  /** An idle keep-alive connection is closed after this. */
  keepAliveMs: number
  /** How often Node checks the header and request timeouts (Node's default is 30 s). */
  checkIntervalMs: number
  /** On shutdown, in-flight requests get this long before their connections are cut. */
  shutdownGraceMs: number
}

export const defaultTimeouts: Timeouts = {
  handshakeMs: 10_000,
  headersMs: 10_000,
  requestMs: 30_000,
  keepAliveMs: 5_000,
  checkIntervalMs: 1_000,
  shutdownGraceMs: 5_000,
}

/** Request line and headers together: enough for any browser, far below Node's 16 KiB default. */
export const maxHeaderBytes = 8192

/*
 * Node accepts connections without limit, so a flood of idle TLS connections could use up the
 * process's file descriptors and a Raspberry Pi's memory. 256 is some forty browsers at six
 * connections each, more than a home has, and well below the descriptor limit. Connections beyond it
 * are closed at once; the idle ones holding it are cut by the handshake and header timeouts.
 */
export const defaultMaxConnections = 256

/*
 * TLS 1.2 is the floor (1.0 and 1.1 are deprecated by RFC 8996). The TLS 1.2 suites are ECDHE with
 * an AEAD cipher only (forward secrecy, no CBC); the RSA ones serve a user's own RSA certificate.
 */
const ciphers = [
  'TLS_AES_128_GCM_SHA256',
  'TLS_AES_256_GCM_SHA384',
  'TLS_CHACHA20_POLY1305_SHA256',
  'ECDHE-ECDSA-AES128-GCM-SHA256',
  'ECDHE-ECDSA-AES256-GCM-SHA384',
  'ECDHE-ECDSA-CHACHA20-POLY1305',
  'ECDHE-RSA-AES128-GCM-SHA256',
  'ECDHE-RSA-AES256-GCM-SHA384',
  'ECDHE-RSA-CHACHA20-POLY1305',
].join(':')

export interface ListenOptions {
  handler: (req: IncomingMessage, res: ServerResponse) => void
  tls: PemPair
  /** Address to bind; all interfaces (IPv6 and IPv4) when absent. */
  host?: string
  port: number
  timeouts?: Partial<Timeouts>
  /** Connections open at once, at most; `defaultMaxConnections` when absent. */
  maxConnections?: number
}

export interface Listener {
  httpsServer: https.Server
  host: string
  port: number
  /** Stops accepting, lets in-flight requests finish, then cuts what is left after the grace period. */
  close(): Promise<void>
  /** Swaps the certificate and key for new connections, without a restart. */
  setTls(tls: PemPair): void
}

function secureContextOptions(tls: PemPair) {
  return {key: tls.key, cert: tls.cert, minVersion: 'TLSv1.2', ciphers, honorCipherOrder: true} as const
}

function listenError(error: unknown, host: string, port: number): Error {
  const where = `port ${port} on ${host.includes(':') ? `[${host}]` : host}`
  switch (errorCode(error)) {
    case 'EADDRINUSE':
      return new HomeauthError(`Cannot listen on ${where}: another program is already using it.`, {
        exitCode: ExitCode.portUnavailable,
        suggestions: [
          'Stop the other program, or choose another port with --port (--port 0 picks a free one).',
        ],
      })
    case 'EACCES':
      return new HomeauthError(`Cannot listen on ${where}: this user is not permitted to bind it.`, {
        exitCode: ExitCode.portUnavailable,
        suggestions: [
          'Choose a port this user may use with --port (the default is 8443), rather than running as root.',
        ],
      })
    case 'EADDRNOTAVAIL':
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return usageError(`Cannot listen on ${where}: that address is not on this machine.`, [
        'Pass one of its addresses with --host, or leave --host out to listen on all of them.',
      ])
    default:
      return error instanceof Error ? error : new Error(String(error))
  }
}

/**
 * Node 20 checks headersTimeout in a list that other connections' requests can leave out of order,
 * so a client sending its headers a byte at a time can outlive the timeout while others are served.
 * Each connection therefore also gets its own deadline: headers must be complete within headersMs of
 * the handshake, and within keepAliveMs + headersMs of the previous response.
 */
function enforceHeaderDeadlines(server: https.Server, timeouts: Timeouts): void {
  const deadlines = new WeakMap<Socket, NodeJS.Timeout>()
  const pending = new WeakMap<Socket, number>()
  const arm = (socket: Socket, ms: number) => {
    clearTimeout(deadlines.get(socket))
    deadlines.set(
      socket,
      setTimeout(() => socket.destroy(), ms),
    )
  }
  server.on('secureConnection', (socket: Socket) => {
    arm(socket, timeouts.headersMs)
    socket.once('close', () => clearTimeout(deadlines.get(socket)))
  })
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    const socket = req.socket
    clearTimeout(deadlines.get(socket))
    pending.set(socket, (pending.get(socket) ?? 0) + 1)
    res.once('close', () => {
      const left = (pending.get(socket) ?? 1) - 1
      pending.set(socket, left)
      if (left === 0 && !socket.destroyed) arm(socket, timeouts.keepAliveMs + timeouts.headersMs)
    })
  })
}

function bind(server: https.Server, host: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (error: Error) => reject(error)
    server.once('error', onError)
    server.listen({host, port, ipv6Only: false}, () => {
      server.off('error', onError)
      resolve()
    })
  })
}

/** Starts the HTTPS server; resolves once it listens, or rejects with a HomeauthError that says why not. */
export async function startServer(options: ListenOptions): Promise<Listener> {
  const timeouts = {...defaultTimeouts, ...options.timeouts}
  const inFlight = new Set<ServerResponse>()
  let closing = false
  const server = https.createServer(
    {
      ...secureContextOptions(options.tls),
      handshakeTimeout: timeouts.handshakeMs,
      maxHeaderSize: maxHeaderBytes,
      requestTimeout: timeouts.requestMs,
      headersTimeout: timeouts.headersMs,
      keepAliveTimeout: timeouts.keepAliveMs,
      connectionsCheckingInterval: timeouts.checkIntervalMs,
    },
    (req, res) => {
      if (closing) res.setHeader('Connection', 'close')
      inFlight.add(res)
      res.once('close', () => inFlight.delete(res))
      options.handler(req, res)
    },
  )
  server.maxConnections = options.maxConnections ?? defaultMaxConnections
  server.on('tlsClientError', (_error, socket) => socket.destroy())
  enforceHeaderDeadlines(server, timeouts)

  let host = options.host ?? '::'
  try {
    await bind(server, host, options.port)
  } catch (error) {
    const noIPv6 = ['EAFNOSUPPORT', 'EADDRNOTAVAIL'].includes(errorCode(error) ?? '')
    if (options.host !== undefined || !noIPv6) throw listenError(error, host, options.port)
    host = '0.0.0.0'
    await bind(server, host, options.port).catch((fallbackError) => {
      throw listenError(fallbackError, host, options.port)
    })
  }

  let closed: Promise<void> | undefined
  return {
    httpsServer: server,
    host,
    port: (server.address() as AddressInfo).port,
    setTls: (tls) => server.setSecureContext(secureContextOptions(tls)),
    close() {
      closed ??= new Promise<void>((resolve) => {
        closing = true
        for (const res of inFlight) if (!res.headersSent) res.setHeader('Connection', 'close')
        const force = setTimeout(() => server.closeAllConnections(), timeouts.shutdownGraceMs)
        server.close(() => {
          clearTimeout(force)
          resolve()
        })
        server.closeIdleConnections()
      })
      return closed
    },
  }
}

import http, {type RequestListener} from 'node:http'
import https from 'node:https'
import net, {type AddressInfo, type Socket} from 'node:net'

import {errorCode} from '../errors.js'
import {bind, bracketHost, listenError, type ListenAdvice} from './address.js'
import {ConnectionTracker, type ConnectionPolicy, type Timeouts} from './connections.js'

export type {ConnectionLimits, ConnectionPolicy, Timeouts} from './connections.js'

/** A certificate (with its chain) and its private key, in PEM. */
export interface TlsMaterial {
  cert: string
  key: string
}

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
  /** Answers the requests that arrive over TLS. */
  handler: RequestListener
  /** Answers the requests that arrive as plain HTTP on the same port. */
  plainHandler: RequestListener
  tls: TlsMaterial
  /** Address to bind; all interfaces (IPv6 and IPv4) when absent. */
  host?: string
  port: number
  timeouts?: Partial<Timeouts>
  /** Caps on connections, in all and per client, and who is exempt or locked out (see ConnectionCrowd). */
  connections?: Partial<ConnectionPolicy>
}

export interface Listener {
  /** Accepts every connection on the port (the connection caps count here) and hands it on by its first byte. */
  tcpServer: net.Server
  /** Serves the connections that start a TLS handshake. */
  httpsServer: https.Server
  /** Serves the connections that start with a plain HTTP request. */
  httpServer: http.Server
  host: string
  port: number
  /** Stops accepting, lets in-flight requests finish, then cuts what is left after the grace period. */
  close(): Promise<void>
  /** Cuts every open connection at once. */
  closeAllConnections(): void
  /** Swaps the certificate and key for new connections, without a restart. */
  setTls(tls: TlsMaterial): void
}

function secureContextOptions(tls: TlsMaterial) {
  return {key: tls.key, cert: tls.cert, minVersion: 'TLSv1.2', ciphers, honorCipherOrder: true} as const
}

/** How the failures of the main listener on `host` and `port` name it, and what they suggest. */
function listenAdvice(host: string, port: number): ListenAdvice {
  return {
    where: `port ${port} on ${bracketHost(host)}`,
    inUse: 'Stop the other program, or choose another port with --port (--port 0 picks a free one).',
    denied: 'Choose a port this user may use with --port (the default is 8443), rather than running as root.',
    notHere: 'Pass one of its addresses with --host, or leave --host out to listen on all of them.',
  }
}

type Protocol = 'tls' | 'http'

/** What a connection speaks, from its first byte; undefined for anything else. */
function protocolOf(firstByte: number | undefined): Protocol | undefined {
  // A ClientHello travels in a TLS record of content type 22, handshake (RFC 8446 §5.1).
  if (firstByte === 0x16) return 'tls'
  // An HTTP/1 request starts with its method, and every method Node's parser knows starts with an
  // upper-case letter (methods are case-sensitive, RFC 9110 §9.1); an empty line before the request
  // line is to be ignored (RFC 9112 §2.2), and Node's parser does.
  if (firstByte === undefined) return undefined
  if ((firstByte >= 0x41 && firstByte <= 0x5a) || firstByte === 0x0d || firstByte === 0x0a) return 'http'
  return undefined
}

const ignoreError = () => {}

/**
 * Waits for a connection's first byte, puts it back, and hands the connection to the server of its
 * protocol; anything else (junk, SSLv2, HTTP/2 in clear) is closed without a word. A connection that
 * sends nothing is cut after `firstByteMs`, like one that never finishes its TLS handshake.
 *
 * These few lines on `net` rather than httpolyglot: it also serves HTTP/2 in clear text, sniffs again
 * inside TLS connections without ALPN, hands unknown bytes to the HTTP parser for a 400 reply, and
 * waits for a first byte forever.
 */
function dispatchByFirstByte(
  socket: Socket,
  firstByteMs: number,
  handOver: (socket: Socket, protocol: Protocol) => void,
): void {
  socket.on('error', ignoreError)
  const deadline = setTimeout(() => socket.destroy(), firstByteMs)
  socket.once('close', () => clearTimeout(deadline))
  const onReadable = () => {
    const data = socket.read() as Buffer | null
    if (data === null) return void socket.once('readable', onReadable)
    clearTimeout(deadline)
    const protocol = protocolOf(data[0])
    if (!protocol) return void socket.destroy()
    socket.off('error', ignoreError)
    socket.unshift(data)
    handOver(socket, protocol)
  }
  socket.once('readable', onReadable)
}

/**
 * Starts the server: HTTPS, and plain HTTP on the same port; resolves once it listens, or rejects
 * with a HomeauthError that says why not.
 */
export async function startServer(options: ListenOptions): Promise<Listener> {
  const connections = new ConnectionTracker(options.timeouts)
  const {timeouts} = connections
  const httpOptions = connections.httpOptions()
  const httpsServer = https.createServer({
    ...secureContextOptions(options.tls),
    handshakeTimeout: timeouts.handshakeMs,
    ...httpOptions,
  })
  httpsServer.on('tlsClientError', (_error, socket) => socket.destroy())
  const httpServer = http.createServer(httpOptions)
  connections.serve(httpsServer, options.handler, 'secureConnection')
  connections.serve(httpServer, options.plainHandler, 'connection')

  const undecided = new Set<Socket>()
  // Half-open as each server would have accepted it: TLS closes on the client's FIN, HTTP answers first.
  const handOver = (socket: Socket, protocol: Protocol) => {
    undecided.delete(socket)
    socket.allowHalfOpen = protocol === 'http'
    ;(protocol === 'tls' ? httpsServer : httpServer).emit('connection', socket)
  }
  const tcpServer = net.createServer({noDelay: true})
  connections.accept(tcpServer, options.connections)
  tcpServer.on('connection', (socket: Socket) => {
    // Refused by the connection caps.
    if (socket.destroyed) return
    undecided.add(socket)
    socket.once('close', () => undecided.delete(socket))
    dispatchByFirstByte(socket, timeouts.handshakeMs, handOver)
  })

  let host = options.host ?? '::'
  try {
    await bind(tcpServer, {host, port: options.port})
  } catch (error) {
    const noIPv6 = ['EAFNOSUPPORT', 'EADDRNOTAVAIL'].includes(errorCode(error) ?? '')
    if (options.host !== undefined || !noIPv6) throw listenError(error, listenAdvice(host, options.port))
    host = '0.0.0.0'
    await bind(tcpServer, {host, port: options.port}).catch((fallbackError: unknown) => {
      throw listenError(fallbackError, listenAdvice(host, options.port))
    })
  }

  for (const server of [httpsServer, httpServer]) {
    // Neither server listens itself, and Node starts the checks of headersTimeout and requestTimeout
    // (and the connection list closeIdleConnections walks) only when a server emits 'listening'.
    server.emit('listening')
  }

  return {
    tcpServer,
    httpsServer,
    httpServer,
    host,
    port: (tcpServer.address() as AddressInfo).port,
    setTls: (tls) => httpsServer.setSecureContext(secureContextOptions(tls)),
    closeAllConnections: connections.closeAll,
    close: () => connections.close(tcpServer, [httpsServer, httpServer], undecided),
  }
}

import http, {STATUS_CODES, type RequestListener, type ServerResponse} from 'node:http'
import https from 'node:https'
import net, {type AddressInfo, type Socket} from 'node:net'
import type {Duplex} from 'node:stream'

import {ExitCode, HomeauthError, errorCode, usageError} from '../errors.js'

/** A certificate (with its chain) and its private key, in PEM. */
export interface TlsMaterial {
  cert: string
  key: string
}

export interface Timeouts {
  /** A connection's first byte must arrive within this, and then its TLS handshake complete (Node's default is 120 s). */
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
 * Node accepts connections without limit, so a flood of idle connections could use up the
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
  /** Answers the requests that arrive over TLS. */
  handler: RequestListener
  /** Answers the requests that arrive as plain HTTP on the same port. */
  plainHandler: RequestListener
  tls: TlsMaterial
  /** Address to bind; all interfaces (IPv6 and IPv4) when absent. */
  host?: string
  port: number
  timeouts?: Partial<Timeouts>
  /** Connections open at once, at most; `defaultMaxConnections` when absent. */
  maxConnections?: number
}

export interface Listener {
  /** Accepts every connection on the port (maxConnections counts here) and hands it on by its first byte. */
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

interface HeaderDeadline {
  /** When the connection is cut unless a request's headers have arrived (performance.now() time). */
  at: number
  /** Requests of the connection whose responses have not closed yet. */
  pending: number
  timer: NodeJS.Timeout | undefined
}

/**
 * Node 20 checks headersTimeout in a list that other connections' requests can leave out of order,
 * so a client sending its headers a byte at a time can outlive the timeout while others are served.
 * Each connection therefore also gets its own deadline: headers must be complete within headersMs of
 * the connection reaching its server (after the TLS handshake, or on the first plain byte), and within
 * keepAliveMs + headersMs of the previous response. A connection has at most one timer, set again
 * only when it fires before the deadline, so a request on a kept-alive connection costs no timer.
 */
export class HeaderDeadlines {
  private readonly deadlines = new WeakMap<Socket, HeaderDeadline>()

  constructor(private readonly timeouts: Timeouts) {}

  connected(socket: Socket): void {
    const deadline: HeaderDeadline = {at: 0, pending: 0, timer: undefined}
    this.deadlines.set(socket, deadline)
    this.arm(socket, deadline, this.timeouts.headersMs)
    socket.once('close', () => clearTimeout(deadline.timer))
  }

  requestStarted(socket: Socket): void {
    const deadline = this.deadlines.get(socket)
    if (deadline) deadline.pending++
  }

  responseClosed(socket: Socket): void {
    const deadline = this.deadlines.get(socket)
    if (!deadline) return
    deadline.pending--
    if (deadline.pending === 0 && !socket.destroyed) {
      this.arm(socket, deadline, this.timeouts.keepAliveMs + this.timeouts.headersMs)
    }
  }

  /** Moves the deadline to `ms` from now; a timer already set fires no later than that, and looks again. */
  private arm(socket: Socket, deadline: HeaderDeadline, ms: number): void {
    deadline.at = performance.now() + ms
    deadline.timer ??= setTimeout(() => this.expire(socket, deadline), ms)
  }

  private expire(socket: Socket, deadline: HeaderDeadline): void {
    deadline.timer = undefined
    if (deadline.pending > 0 || socket.destroyed) return
    const left = deadline.at - performance.now()
    if (left <= 0) return void socket.destroy()
    deadline.timer = setTimeout(() => this.expire(socket, deadline), left)
  }
}

/** The answers Node gives a request it cannot parse; 400 for every other parser error. */
const unparsableStatus: Record<string, number> = {
  HPE_HEADER_OVERFLOW: 431,
  HPE_CHUNK_EXTENSIONS_OVERFLOW: 413,
  ERR_HTTP_REQUEST_TIMEOUT: 408,
}

/**
 * Node answers a request it cannot parse (400, 408, 413, 431) by writing the answer and destroying
 * the socket in the same tick. Over TLS the answer can still wait behind the previous record (the
 * session ticket, when the request arrives right after the handshake) and is then lost: the client
 * sees the connection close without a word. The same answer here, and the socket closed once it is
 * flushed (or after cutAfterMs, for a client that does not read it). As Node does, no answer is
 * written into a response already under way.
 */
export function answerUnparsableRequests(
  server: http.Server,
  responding: (socket: Duplex) => boolean,
  cutAfterMs: number,
): void {
  server.on('clientError', (error: NodeJS.ErrnoException, socket: Socket) => {
    if (socket.writable && !responding(socket)) {
      const status = unparsableStatus[error.code ?? ''] ?? 400
      socket.write(`HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nConnection: close\r\n\r\n`)
    }
    socket.destroySoon()
    const cut = setTimeout(() => socket.destroy(), cutAfterMs)
    socket.once('close', () => clearTimeout(cut))
  })
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

function bind(server: net.Server, host: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (error: Error) => reject(error)
    server.once('error', onError)
    server.listen({host, port, ipv6Only: false}, () => {
      server.off('error', onError)
      resolve()
    })
  })
}

/** Node's HTTP server options with our timeouts and header limit, for every listener. */
export function httpServerOptions(timeouts: Timeouts) {
  return {
    maxHeaderSize: maxHeaderBytes,
    requestTimeout: timeouts.requestMs,
    headersTimeout: timeouts.headersMs,
    keepAliveTimeout: timeouts.keepAliveMs,
    connectionsCheckingInterval: timeouts.checkIntervalMs,
  }
}

/** The responses in flight, for a graceful shutdown and the header deadlines. */
export class RequestTracker {
  private readonly inFlight = new Set<ServerResponse>()
  private closing = false

  constructor(private readonly deadlines: HeaderDeadlines) {}

  /** `handler`, with one 'close' listener per response doing all the bookkeeping. */
  tracked(handler: RequestListener): RequestListener {
    return (req, res) => {
      if (this.closing) res.setHeader('Connection', 'close')
      const socket = req.socket
      this.inFlight.add(res)
      this.deadlines.requestStarted(socket)
      res.on('close', () => {
        this.inFlight.delete(res)
        this.deadlines.responseClosed(socket)
      })
      handler(req, res)
    }
  }

  /** Whether a response on `socket` has started, so no parser error answer may be written into it. */
  readonly responding = (socket: Duplex): boolean =>
    [...this.inFlight].some((res) => res.socket === socket && res.headersSent)

  /** From now on every response closes its connection, and so do those not started yet. */
  beginClose(): void {
    this.closing = true
    for (const res of this.inFlight) if (!res.headersSent) res.setHeader('Connection', 'close')
  }
}

/**
 * Starts the server: HTTPS, and plain HTTP on the same port; resolves once it listens, or rejects
 * with a HomeauthError that says why not.
 */
export async function startServer(options: ListenOptions): Promise<Listener> {
  const timeouts = {...defaultTimeouts, ...options.timeouts}
  const deadlines = new HeaderDeadlines(timeouts)
  const requests = new RequestTracker(deadlines)
  const tracked = (handler: RequestListener) => requests.tracked(handler)
  const httpOptions = httpServerOptions(timeouts)
  const httpsServer = https.createServer(
    {...secureContextOptions(options.tls), handshakeTimeout: timeouts.handshakeMs, ...httpOptions},
    tracked(options.handler),
  )
  httpsServer.on('tlsClientError', (_error, socket) => socket.destroy())
  const httpServer = http.createServer(httpOptions, tracked(options.plainHandler))
  httpsServer.on('secureConnection', (socket: Socket) => deadlines.connected(socket))
  httpServer.on('connection', (socket: Socket) => deadlines.connected(socket))
  answerUnparsableRequests(httpsServer, requests.responding, timeouts.headersMs)
  answerUnparsableRequests(httpServer, requests.responding, timeouts.headersMs)

  const connections = new Set<Socket>()
  const undecided = new Set<Socket>()
  // Half-open as each server would have accepted it: TLS closes on the client's FIN, HTTP answers first.
  const handOver = (socket: Socket, protocol: Protocol) => {
    undecided.delete(socket)
    socket.allowHalfOpen = protocol === 'http'
    ;(protocol === 'tls' ? httpsServer : httpServer).emit('connection', socket)
  }
  const tcpServer = net.createServer({noDelay: true}, (socket) => {
    connections.add(socket)
    undecided.add(socket)
    socket.once('close', () => {
      connections.delete(socket)
      undecided.delete(socket)
    })
    dispatchByFirstByte(socket, timeouts.handshakeMs, handOver)
  })
  tcpServer.maxConnections = options.maxConnections ?? defaultMaxConnections

  let host = options.host ?? '::'
  try {
    await bind(tcpServer, host, options.port)
  } catch (error) {
    const noIPv6 = ['EAFNOSUPPORT', 'EADDRNOTAVAIL'].includes(errorCode(error) ?? '')
    if (options.host !== undefined || !noIPv6) throw listenError(error, host, options.port)
    host = '0.0.0.0'
    await bind(tcpServer, host, options.port).catch((fallbackError) => {
      throw listenError(fallbackError, host, options.port)
    })
  }

  for (const server of [httpsServer, httpServer]) {
    // Neither server listens itself, and Node starts the checks of headersTimeout and requestTimeout
    // (and the connection list closeIdleConnections walks) only when a server emits 'listening'.
    server.emit('listening')
  }

  const closeAllConnections = () => {
    for (const socket of connections) socket.destroy()
  }
  let closed: Promise<void> | undefined
  return {
    tcpServer,
    httpsServer,
    httpServer,
    host,
    port: (tcpServer.address() as AddressInfo).port,
    setTls: (tls) => httpsServer.setSecureContext(secureContextOptions(tls)),
    closeAllConnections,
    close() {
      closed ??= new Promise<void>((resolve) => {
        requests.beginClose()
        const force = setTimeout(closeAllConnections, timeouts.shutdownGraceMs)
        tcpServer.close(() => {
          clearTimeout(force)
          // Stops their timeout checks; they hold no connection any more.
          httpsServer.close()
          httpServer.close()
          resolve()
        })
        for (const socket of undecided) socket.destroy()
        httpsServer.closeIdleConnections()
        httpServer.closeIdleConnections()
      })
      return closed
    },
  }
}

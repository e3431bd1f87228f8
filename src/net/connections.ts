import {STATUS_CODES, type RequestListener, type Server as HttpServer, type ServerResponse} from 'node:http'
import type {Server as NetServer, Socket} from 'node:net'
import type {Duplex} from 'node:stream'

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

const defaultTimeouts: Timeouts = {
  handshakeMs: 10_000,
  headersMs: 10_000,
  requestMs: 30_000,
  keepAliveMs: 5_000,
  checkIntervalMs: 1_000,
  shutdownGraceMs: 5_000,
}

/** Request line and headers together: enough for any browser, far below Node's 16 KiB default. */
const maxHeaderBytes = 8192

/*
 * Node accepts connections without limit, so a flood of idle connections could use up the
 * process's file descriptors and a Raspberry Pi's memory. 256 is some forty browsers at six
 * connections each, more than a home has, and well below the descriptor limit. Connections beyond it
 * are closed at once; the idle ones holding it are cut by the handshake and header timeouts.
 */
const defaultMaxConnections = 256

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
class HeaderDeadlines {
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
function answerUnparsableRequests(
  server: HttpServer,
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

/** The responses in flight, for a graceful shutdown and the header deadlines. */
class RequestTracker {
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
 * One listener's connections and requests: its HTTP servers set up alike (our timeouts and header
 * limit, a header deadline per connection, an answer to a request Node cannot parse), every
 * connection counted, and the graceful close.
 */
export class ConnectionTracker {
  readonly timeouts: Timeouts
  private readonly deadlines: HeaderDeadlines
  private readonly requests: RequestTracker
  private readonly open = new Set<Socket>()
  private closed: Promise<void> | undefined

  constructor(timeouts: Partial<Timeouts> = {}) {
    this.timeouts = {...defaultTimeouts, ...timeouts}
    this.deadlines = new HeaderDeadlines(this.timeouts)
    this.requests = new RequestTracker(this.deadlines)
  }

  /** Node's HTTP server options with our timeouts and header limit, for every server of the listener. */
  httpOptions() {
    return {
      maxHeaderSize: maxHeaderBytes,
      requestTimeout: this.timeouts.requestMs,
      headersTimeout: this.timeouts.headersMs,
      keepAliveTimeout: this.timeouts.keepAliveMs,
      connectionsCheckingInterval: this.timeouts.checkIntervalMs,
    }
  }

  /**
   * Has `server` (made with httpOptions) answer with `handler`: every request tracked, the header
   * deadline started at `connected` (after the TLS handshake for HTTPS), unparsable requests answered.
   */
  serve(server: HttpServer, handler: RequestListener, connected: 'connection' | 'secureConnection'): void {
    server.on('request', this.requests.tracked(handler))
    server.on(connected, (socket: Socket) => this.deadlines.connected(socket))
    answerUnparsableRequests(server, this.requests.responding, this.timeouts.headersMs)
  }

  /** Caps the connections `server` accepts at `max` and counts each until it closes. */
  accept(server: NetServer, max = defaultMaxConnections): void {
    server.maxConnections = max
    server.on('connection', (socket: Socket) => {
      this.open.add(socket)
      socket.once('close', () => this.open.delete(socket))
    })
  }

  /** Cuts every open connection at once. */
  readonly closeAll = (): void => {
    for (const socket of this.open) socket.destroy()
  }

  /**
   * Stops `listening` accepting, cuts the `undecided` connections (no server has them yet) and the
   * idle ones of `served`, lets in-flight requests finish, and cuts what is left after the grace
   * period. Every call returns the same promise, resolved once `listening` has closed.
   */
  close(listening: NetServer, served: HttpServer[], undecided: Iterable<Socket> = []): Promise<void> {
    this.closed ??= new Promise<void>((resolve) => {
      this.requests.beginClose()
      const force = setTimeout(this.closeAll, this.timeouts.shutdownGraceMs)
      listening.close(() => {
        clearTimeout(force)
        // The servers that never listened themselves: stops their timeout checks; they hold no
        // connection any more.
        for (const server of served) if (server !== listening) server.close()
        resolve()
      })
      for (const socket of undecided) socket.destroy()
      for (const server of served) server.closeIdleConnections()
    })
    return this.closed
  }
}

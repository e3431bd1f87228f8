import {STATUS_CODES, type RequestListener, type Server as HttpServer, type ServerResponse} from 'node:http'
import type {Server as NetServer, Socket} from 'node:net'
import type {Duplex} from 'node:stream'

import {unmapIpv4} from './ipv6.js'

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

/** How many connections a listener keeps open at once, and how they are shared out among its clients. */
export interface ConnectionLimits {
  /** Connections open at once, at most. */
  maxConnections: number
  /** Connections from one client at once, at most; undefined for no cap per client. */
  maxPerClient: number | undefined
}

/*
 * Node accepts connections without limit, so a flood of idle connections could use up the
 * process's file descriptors and a Raspberry Pi's memory. 256 is some forty browsers at six
 * connections each, more than a home has, and well below the descriptor limit.
 * 16 per client: a browser opens 6 to a host (and a second origin, the plain-HTTP onboarding on the
 * same port, 6 more), with room left for the device's scripts and apps; then no one address can hold
 * more than a sixteenth of the total, and a crowd needs sixteen addresses to fill it.
 */
export const defaultConnectionLimits: ConnectionLimits = {maxConnections: 256, maxPerClient: 16}

/** One open connection as the crowd sees it. */
export interface CrowdMember {
  /** Whom it counts against (see ConnectionPolicy's `clientOf`). */
  readonly client: string
  /** The peer's address as the socket reports it. */
  readonly address: string
  /** No request of it in flight: it may be cut without losing an answer. */
  idle(): boolean
}

export interface CrowdOptions extends ConnectionLimits {
  /** Clients never capped per client: a trusted reverse proxy carries many clients on one address, and a signed-in client is no crowd. */
  uncapped: (address: string) => boolean
  /** Whether the client at `address` is locked out for failed logins (its requests all get 429). */
  lockedOut: (address: string) => boolean
  /** Whether a user signed in from `address` lately (see ConnectionCrowd for what that protects). */
  signedIn: (address: string) => boolean
}

/**
 * Which connections a listener keeps when too many want in. A client over its own cap is refused.
 * At the total, a newcomer whose client holds few is not simply refused (which would let a crowd that
 * got there first keep the owner out): it displaces one connection from the client holding the most,
 * a locked-out client's first (its requests all get 429 anyway), else an idle one (no answer is
 * lost); a client whose connections are all busy and not locked out keeps them, and the next-largest
 * is tried. Only a client holding at least two more than the newcomer's gives one up, so the two never
 * trade places back and forth. When nobody can give one up, the newcomer is refused.
 *
 * A client that signed in lately is not a guesser: counting connections alone would make its browser,
 * holding several, the first to lose them to a crowd holding one each. Its connections are never
 * displaced (unless it is locked out), and when nothing else can make room for it, it takes a busy
 * connection of the largest client that has not signed in: that request is lost, but it was a
 * stranger's, and the signed-in client stays within its own cap.
 */
export class ConnectionCrowd<Member extends CrowdMember> {
  private readonly byClient = new Map<string, Set<Member>>()
  private count = 0

  constructor(private readonly options: CrowdOptions) {}

  get size(): number {
    return this.count
  }

  /** Takes `member` in, or refuses it (false); when it displaced another, that one is returned to be cut. */
  admit(member: Member): {admitted: false} | {admitted: true; displaced: Member | undefined} {
    const {maxConnections, maxPerClient} = this.options
    const held = this.byClient.get(member.client)?.size ?? 0
    if (maxPerClient !== undefined && held >= maxPerClient && !this.options.uncapped(member.address))
      return {admitted: false}
    let displaced: Member | undefined
    if (this.count >= maxConnections) {
      displaced = this.displaceable(held) ?? this.makeRoomForSignedIn(member)
      if (!displaced) return {admitted: false}
      this.remove(displaced)
    }
    this.add(member)
    return {admitted: true, displaced}
  }

  /** Forgets `member` (once it has closed); nothing if it is not here. */
  remove(member: Member): void {
    const members = this.byClient.get(member.client)
    if (!members?.delete(member)) return
    this.count--
    if (members.size === 0) this.byClient.delete(member.client)
  }

  private add(member: Member): void {
    let members = this.byClient.get(member.client)
    if (!members) this.byClient.set(member.client, (members = new Set()))
    members.add(member)
    this.count++
  }

  /** The connection a newcomer whose client holds `held` may displace, if any (see the class). */
  private displaceable(held: number): Member | undefined {
    for (const members of this.largestFirst((members) => members.size > held + 1)) {
      const [first] = members
      if (this.options.lockedOut(first!.address)) return first
      if (this.options.signedIn(first!.address)) continue
      for (const member of members) if (member.idle()) return member
    }
    return undefined
  }

  /** For a newcomer that signed in lately: the oldest connection of the largest client that has not. */
  private makeRoomForSignedIn(newcomer: Member): Member | undefined {
    const {signedIn, lockedOut} = this.options
    if (!signedIn(newcomer.address) || lockedOut(newcomer.address)) return undefined
    const [stranger] = this.largestFirst((members) => !signedIn(members.values().next().value!.address))
    return stranger?.values().next().value
  }

  /** The clients for which `include` holds, those holding the most connections first. */
  private largestFirst(include: (members: Set<Member>) => boolean): Set<Member>[] {
    return [...this.byClient.values()].filter(include).sort((a, b) => b.size - a.size)
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
class HeaderDeadlines {
  private readonly deadlines = new WeakMap<Socket, HeaderDeadline>()

  constructor(private readonly timeouts: Timeouts) {}

  connected(socket: Socket): void {
    const deadline: HeaderDeadline = {at: 0, pending: 0, timer: undefined}
    this.deadlines.set(socket, deadline)
    this.arm(socket, deadline, this.timeouts.headersMs)
    socket.once('close', () => clearTimeout(deadline.timer))
  }

  /** Whether no request of `socket` (the socket served, TLS or plain) awaits its response. */
  idle(socket: Socket): boolean {
    return (this.deadlines.get(socket)?.pending ?? 0) === 0
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

/** How a listener admits connections: its caps, and how the crowd policy learns about a client. */
export interface ConnectionPolicy extends CrowdOptions {
  /** Whom a connection from `address` counts against (an address, or an IPv6 /64 outside the LAN). */
  clientOf: (address: string) => string
}

const noPolicy: Omit<ConnectionPolicy, keyof ConnectionLimits> = {
  uncapped: () => false,
  lockedOut: () => false,
  signedIn: () => false,
  clientOf: (address) => address,
}

/** An accepted connection: its socket, and once its TLS handshake is done, the TLS socket served. */
interface OpenConnection extends CrowdMember {
  readonly socket: Socket
  served: Socket | undefined
}

/** A TCP connection's four-tuple, the same for its socket and the TLS socket wrapped around it. */
function peerOf(socket: Socket): string {
  return `${socket.localAddress}|${socket.localPort}|${socket.remoteAddress}|${socket.remotePort}`
}

/**
 * One listener's connections and requests: its HTTP servers set up alike (our timeouts and header
 * limit, a header deadline per connection, an answer to a request Node cannot parse), every
 * connection counted and admitted by ConnectionCrowd, and the graceful close.
 */
export class ConnectionTracker {
  readonly timeouts: Timeouts
  private readonly deadlines: HeaderDeadlines
  private readonly requests: RequestTracker
  private readonly open = new Set<Socket>()
  /** Accepted connections not tied to a TLS socket yet, by four-tuple (a plain-HTTP one stays until it closes). */
  private readonly awaitingTls = new Map<string, OpenConnection>()
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
    server.on(connected, (socket: Socket) => {
      this.deadlines.connected(socket)
      if (connected === 'secureConnection') this.linkTls(socket)
    })
    answerUnparsableRequests(server, this.requests.responding, this.timeouts.headersMs)
  }

  /**
   * Admits the connections `server` accepts by `policy` (see ConnectionCrowd; Node's maxConnections
   * would only refuse the newest) and counts each until it closes. A connection refused, or displaced
   * by a newcomer, is cut at once.
   */
  accept(server: NetServer, policy: Partial<ConnectionPolicy> = {}): void {
    const {clientOf, ...crowdOptions} = {...defaultConnectionLimits, ...noPolicy, ...policy}
    const crowd = new ConnectionCrowd<OpenConnection>(crowdOptions)
    server.on('connection', (socket: Socket) => {
      const address = unmapIpv4(socket.remoteAddress ?? 'unknown')
      const connection: OpenConnection = {
        socket,
        served: undefined,
        address,
        client: clientOf(address),
        idle: () => this.deadlines.idle(connection.served ?? socket),
      }
      const admission = crowd.admit(connection)
      if (!admission.admitted) return void socket.destroy()
      admission.displaced?.socket.destroy()
      const peer = peerOf(socket)
      this.open.add(socket)
      this.awaitingTls.set(peer, connection)
      socket.once('close', () => {
        crowd.remove(connection)
        this.open.delete(socket)
        if (this.awaitingTls.get(peer) === connection) this.awaitingTls.delete(peer)
      })
    })
  }

  /** Ties the TLS socket served to its accepted connection, whose requests then count as in flight. */
  private linkTls(socket: Socket): void {
    const peer = peerOf(socket)
    const connection = this.awaitingTls.get(peer)
    if (!connection) return
    connection.served = socket
    this.awaitingTls.delete(peer)
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

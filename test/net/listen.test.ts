import type {ServerResponse} from 'node:http'
import https from 'node:https'
import net from 'node:net'
import tls from 'node:tls'

import {afterEach, beforeAll, describe, expect, it} from 'vitest'

import {createAuthority, issueServerCertificate, type PemPair} from '../../src/certificates/authority.js'
import {homeConstraints} from '../../src/certificates/constraints.js'
import {ExitCode, HomeauthError} from '../../src/errors.js'
import {startServer, type ListenOptions, type Listener} from '../../src/net/listen.js'
import {request} from '../helpers/https.js'

let authority: PemPair
let pair: PemPair
const running: Listener[] = []

beforeAll(async () => {
  authority = await createAuthority('listen test CA', homeConstraints([]))
  pair = await issueServerCertificate(authority, ['localhost', '127.0.0.1'])
})

afterEach(async () => {
  await Promise.all(running.splice(0).map((server) => server.close()))
})

async function listen(options: Partial<ListenOptions> = {}): Promise<Listener> {
  const server = await startServer({
    handler: (_req, res) => res.end('ok'),
    plainHandler: (_req, res) => res.end('plain'),
    tls: pair,
    host: '127.0.0.1',
    port: 0,
    ...options,
  })
  running.push(server)
  return server
}

function openConnections(server: Listener): Promise<number> {
  return new Promise((resolve, reject) =>
    server.tcpServer.getConnections((error, count) => (error ? reject(error) : resolve(count))),
  )
}

/** Polls `condition` until it holds; fails only if it has not within `deadlineMs` (something hangs). */
async function until(condition: () => Promise<boolean>, what: string, deadlineMs = 20_000): Promise<void> {
  const deadline = Date.now() + deadlineMs
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`gave up waiting: ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
}

/**
 * Resolves when the server closes `socket`, reading (and dropping) whatever it sent: a socket closes
 * only once what it received has been read. Only the server's own close counts: its FIN ('end') or
 * its reset (ECONNRESET, or EPIPE on a write after it); a socket that never connected, or that this
 * side destroyed, rejects. Rejects too when it is still open after 8 s: many times the test's
 * timeouts, yet below the defaults (10 s and more), so only a timeout that did not apply fails,
 * never a busy machine.
 */
function closedByServer(socket: net.Socket, deadlineMs = 8_000): Promise<void> {
  socket.resume()
  let connected = !socket.connecting
  let byServer = false
  let otherError: unknown
  socket.once('connect', () => (connected = true))
  socket.once('end', () => (byServer = true))
  socket.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'ECONNRESET' || error.code === 'EPIPE') byServer = true
    else otherError ??= error
  })
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`still open after ${deadlineMs} ms`)), deadlineMs)
    socket.on('close', () => {
      clearTimeout(timer)
      if (connected && byServer) resolve()
      else reject(new Error(`closed, but not by the server (connected: ${connected}, error: ${otherError})`))
    })
  })
}

describe('startServer', () => {
  it('reports a busy port as exit code 9 with one sentence', async () => {
    const first = await listen()
    const error = await startServer({
      handler: () => {},
      plainHandler: () => {},
      tls: pair,
      host: '127.0.0.1',
      port: first.port,
    }).catch((caught) => caught)
    expect(error).toBeInstanceOf(HomeauthError)
    expect(error.exitCode).toBe(ExitCode.portUnavailable)
    expect(error.message).toBe(
      `Cannot listen on port ${first.port} on 127.0.0.1: another program is already using it.`,
    )
  })

  it('reports an address that is not on this machine as a usage error', async () => {
    const error = await startServer({
      handler: () => {},
      plainHandler: () => {},
      tls: pair,
      host: '192.0.2.123',
      port: 0,
    }).catch((caught) => caught)
    expect(error).toBeInstanceOf(HomeauthError)
    expect(error.exitCode).toBe(ExitCode.usage)
  })

  it('answers plain HTTP on the HTTPS port with the plain handler, and TLS with the other', async () => {
    const server = await listen()
    expect((await request(`http://127.0.0.1:${server.port}/`)).body).toBe('plain')
    expect((await request(`https://localhost:${server.port}/`, {ca: authority.cert})).body).toBe('ok')
  })

  it('answers a plain HTTP request that starts with an empty line, as RFC 9112 asks', async () => {
    const server = await listen()
    const socket = net.connect(server.port, '127.0.0.1', () =>
      socket.write('\r\nGET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n'),
    )
    let received = ''
    socket.on('data', (chunk: Buffer) => (received += chunk.toString('latin1')))
    await closedByServer(socket)
    expect(received).toMatch(/^HTTP\/1\.1 200 OK\r\n[\s\S]*\r\n\r\nplain$/)
  })

  it('closes a connection whose first byte is neither TLS nor an HTTP method, without a reply', async () => {
    const server = await listen()
    for (const bytes of [
      Buffer.from([0, 1, 2, 3]),
      Buffer.from('get / HTTP/1.1\r\n\r\n'),
      Buffer.from([0x80]),
    ]) {
      const socket = net.connect(server.port, '127.0.0.1', () => socket.write(bytes))
      socket.on('error', () => {})
      let received = ''
      socket.on('data', (chunk: Buffer) => (received += chunk.toString('latin1')))
      await closedByServer(socket)
      expect(received).toBe('')
    }
  })

  it('drops a plain HTTP client that sends its headers too slowly, while serving others', async () => {
    const server = await listen({timeouts: {headersMs: 400, checkIntervalMs: 100}})
    const socket = net.connect(server.port, '127.0.0.1', () =>
      socket.write('GET / HTTP/1.1\r\nHost: localhost\r\n'),
    )
    socket.on('error', () => {})
    const closed = closedByServer(socket)
    expect((await request(`http://127.0.0.1:${server.port}/`)).body).toBe('plain')
    await closed
  })

  it('drops a plain HTTP client whose request body trickles in, within the request timeout', async () => {
    const server = await listen({
      plainHandler: (req, res) => req.resume().once('end', () => res.end('read it all')),
      timeouts: {headersMs: 400, requestMs: 500, checkIntervalMs: 100},
    })
    const socket = net.connect(server.port, '127.0.0.1', () => {
      socket.write('POST / HTTP/1.1\r\nHost: localhost\r\nContent-Length: 1000\r\n\r\n')
      const timer = setInterval(() => (socket.destroyed ? clearInterval(timer) : socket.write('a')), 20)
    })
    socket.on('error', () => {})
    await closedByServer(socket)
  })

  it('counts plain HTTP connections against the cap of connections', async () => {
    const server = await listen({
      connections: {maxConnections: 2},
      timeouts: {handshakeMs: 4_000, headersMs: 4_000},
    })
    const idle = [net.connect(server.port, '127.0.0.1'), net.connect(server.port, '127.0.0.1')]
    for (const socket of idle) socket.on('error', () => {})
    idle[1]!.on('connect', () => idle[1]!.write('GET / HTTP/1.1\r\n'))
    await until(async () => (await openConnections(server)) === 2, 'two idle connections')
    await expect(request(`http://127.0.0.1:${server.port}/`)).rejects.toThrow()
    expect(idle.every((socket) => !socket.destroyed)).toBe(true)
    for (const socket of idle) socket.destroy()
  })

  it('drops a client that connects and never sends a byte, after the handshake timeout', async () => {
    const server = await listen({timeouts: {handshakeMs: 300}})
    const socket = net.connect(server.port, '127.0.0.1')
    socket.on('error', () => {})
    await closedByServer(socket)
  })

  it('drops a client that sends its headers too slowly, while serving others', async () => {
    const server = await listen({timeouts: {headersMs: 400, checkIntervalMs: 100}})
    const socket = tls.connect({
      host: '127.0.0.1',
      port: server.port,
      ca: authority.cert,
      servername: 'localhost',
    })
    socket.on('error', () => {})
    socket.on('secureConnect', () => socket.write('GET / HTTP/1.1\r\nHost: localhost\r\n'))
    const closed = closedByServer(socket)
    expect((await request(`https://localhost:${server.port}/`, {ca: authority.cert})).body).toBe('ok')
    await closed
  })

  it('refuses connections beyond the cap while idle ones of the same client hold them all, and serves once they time out', async () => {
    const server = await listen({
      connections: {maxConnections: 3},
      timeouts: {handshakeMs: 4_000, headersMs: 4_000, checkIntervalMs: 100},
    })
    const idle = [
      net.connect(server.port, '127.0.0.1'),
      net.connect(server.port, '127.0.0.1'),
      tls.connect({host: '127.0.0.1', port: server.port, ca: authority.cert, servername: 'localhost'}),
    ]
    for (const socket of idle) socket.on('error', () => {})
    const idleClosed = Promise.all(idle.map((socket) => closedByServer(socket)))
    await until(async () => (await openConnections(server)) === 3, 'three idle connections')

    await expect(request(`https://localhost:${server.port}/`, {ca: authority.cert})).rejects.toThrow()
    expect(await openConnections(server)).toBe(3)

    await idleClosed
    await until(async () => (await openConnections(server)) === 0, 'the idle connections to be cut')
    expect((await request(`https://localhost:${server.port}/`, {ca: authority.cert})).body).toBe('ok')
  })

  it('at the cap, lets a newcomer displace a TLS connection only once its request has been answered', async () => {
    const held: ServerResponse[] = []
    let allArrived = () => {}
    const arrived = new Promise<void>((resolve) => (allArrived = resolve))
    const server = await listen({
      handler: (req, res) => {
        if (req.socket.remoteAddress !== '127.0.1.1') return void res.end('newcomer')
        held.push(res)
        if (held.length === 3) allArrived()
      },
      connections: {maxConnections: 3},
      timeouts: {keepAliveMs: 60_000},
    })
    const agent = new https.Agent({keepAlive: true, localAddress: '127.0.1.1', ca: authority.cert})
    const sockets: net.Socket[] = []
    const crowd = Array.from(
      {length: 3},
      () =>
        new Promise<net.Socket>((resolve) => {
          const req = https.get(`https://localhost:${server.port}/`, {agent}, (res) =>
            res.resume().on('end', () => resolve(req.socket as net.Socket)),
          )
          req.on('socket', (socket: net.Socket) => sockets.push(socket))
          req.on('error', () => {})
        }),
    )
    await arrived
    const newcomer = {ca: authority.cert, localAddress: '127.0.2.1'}
    await expect(request(`https://localhost:${server.port}/`, newcomer)).rejects.toThrow()
    held[0]!.end('answered')
    const answered = await Promise.race(crowd)
    const displaced = new Promise<net.Socket>((resolve) => {
      for (const socket of sockets) socket.once('close', () => resolve(socket))
    })
    expect((await request(`https://localhost:${server.port}/`, newcomer)).body).toBe('newcomer')
    expect(await displaced).toBe(answered)
    for (const res of held.slice(1)) res.end()
    agent.destroy()
  })

  it('lets an in-flight request finish on close, then stops accepting', async () => {
    let release = () => {}
    let arrived = () => {}
    const handled = new Promise<void>((resolve) => (arrived = resolve))
    const server = await listen({
      handler: (_req, res) => {
        release = () => res.end('finished')
        arrived()
      },
    })
    const inFlight = request(`https://localhost:${server.port}/`, {ca: authority.cert})
    await handled
    const closed = server.close()
    await expect(request(`https://localhost:${server.port}/`, {ca: authority.cert})).rejects.toThrow(
      /ECONNREFUSED/,
    )
    release()
    expect((await inFlight).body).toBe('finished')
    await closed
  })

  it('lets an in-flight plain HTTP request finish on close, closes idle plain connections, and stops accepting', async () => {
    let release = () => {}
    let arrived = () => {}
    const handled = new Promise<void>((resolve) => (arrived = resolve))
    const server = await listen({
      plainHandler: (req, res) => {
        if (req.url === '/quick') return void res.end('quick')
        release = () => res.end('finished')
        arrived()
      },
    })
    const idle = net.connect(server.port, '127.0.0.1', () =>
      idle.write('GET /quick HTTP/1.1\r\nHost: a\r\n\r\n'),
    )
    idle.on('error', () => {})
    await new Promise((resolve) => idle.once('data', resolve))
    const idleClosed = closedByServer(idle)
    const inFlight = request(`http://127.0.0.1:${server.port}/`)
    await handled
    const closed = server.close()
    await idleClosed
    await expect(request(`http://127.0.0.1:${server.port}/`)).rejects.toThrow(/ECONNREFUSED/)
    release()
    const response = await inFlight
    expect(response.body).toBe('finished')
    expect(response.headers.connection).toBe('close')
    await closed
  })

  it('cuts connections that have not sent a byte yet when it closes', async () => {
    const server = await listen()
    const silent = net.connect(server.port, '127.0.0.1')
    silent.on('error', () => {})
    await until(async () => (await openConnections(server)) === 1, 'the silent connection')
    const silentClosed = closedByServer(silent)
    await server.close()
    await silentClosed
  })

  it('cuts connections still open after the grace period', async () => {
    let arrived = () => {}
    const handled = new Promise<void>((resolve) => (arrived = resolve))
    const server = await listen({handler: () => arrived(), timeouts: {shutdownGraceMs: 200}})
    const stuck = request(`https://localhost:${server.port}/`, {ca: authority.cert})
    await handled
    await server.close()
    await expect(stuck).rejects.toThrow(/socket hang up|ECONNRESET/)
  })
})

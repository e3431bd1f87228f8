import https from 'node:https'
import type {Socket} from 'node:net'

import {afterEach, describe, expect, it} from 'vitest'

import {basicHeader, request} from '../helpers/https.js'
import {useTestServer, user, type TestServer} from '../helpers/server.js'
import {useTempDir} from '../helpers/temp.js'

const tempDir = useTempDir()
const startServer = useTestServer()
const agents: https.Agent[] = []

afterEach(() => {
  for (const agent of agents.splice(0)) agent.destroy()
})

/** A server that holds 8 connections at most, 4 per client, and keeps idle ones open for the test's length. */
function smallServer(options: {trustProxy?: string[]} = {}): Promise<TestServer> {
  return startServer(tempDir(), {
    connections: {maxConnections: 8, maxPerClient: 4},
    timeouts: {keepAliveMs: 120_000},
    ...options,
  })
}

interface KeptAlive {
  agent: https.Agent
  sockets: Socket[]
  statuses: number[]
}

/** Opens `count` keep-alive connections from `localAddress`, one GET each (credentials if given), left open and idle. */
async function keepAlive(
  server: TestServer,
  localAddress: string,
  count: number,
  path = '/healthz',
  password?: string,
): Promise<KeptAlive> {
  const agent = new https.Agent({keepAlive: true, maxSockets: count, localAddress, ca: server.ca})
  agents.push(agent)
  const sockets: Socket[] = []
  const headers: Record<string, string> =
    password === undefined ? {} : {authorization: basicHeader(user.username, password)}
  const statuses = await Promise.all(
    Array.from(
      {length: count},
      () =>
        new Promise<number>((resolve, reject) => {
          const req = https.get(`${server.url}${path}`, {agent, headers}, (res) => {
            res.resume()
            res.on('end', () => resolve(res.statusCode ?? 0))
          })
          req.on('socket', (socket: Socket) => sockets.push(socket))
          req.on('error', reject)
        }),
    ),
  )
  return {agent, sockets, statuses}
}

/** Resolves with the first of `sockets` to close. */
function firstClosed(sockets: Socket[]): Promise<Socket> {
  return Promise.race(
    sockets.map((socket) => new Promise<Socket>((resolve) => socket.once('close', () => resolve(socket)))),
  )
}

describe('a crowd of connections at the cap', () => {
  it('does not keep out a new address: it displaces an idle connection of the client holding the most', async () => {
    const server = await smallServer()
    const crowd = []
    for (const address of ['127.0.1.1', '127.0.1.2', '127.0.1.3', '127.0.1.4'])
      crowd.push(await keepAlive(server, address, 2))
    const sockets = crowd.flatMap(({sockets}) => sockets)
    expect(sockets).toHaveLength(8)
    const displaced = firstClosed(sockets)
    const newcomer = await request(`${server.url}/api/secret`, {
      ca: server.ca,
      auth: user,
      localAddress: '127.0.2.1',
    })
    expect(newcomer.status).toBe(200)
    expect(sockets).toContain(await displaced)
  })

  it('lets a signed-in user’s new connection in, and keeps the one it had', async () => {
    const server = await smallServer()
    const signedIn = await keepAlive(server, '127.0.0.1', 1, '/api/secret', user.password)
    expect(signedIn.statuses).toEqual([200])
    const crowd = [
      await keepAlive(server, '127.0.1.1', 3),
      await keepAlive(server, '127.0.1.2', 3),
      await keepAlive(server, '127.0.1.3', 1),
    ]
    const displaced = firstClosed(crowd.flatMap(({sockets}) => sockets))
    const second = await request(`${server.url}/api/secret`, {
      ca: server.ca,
      auth: user,
      localAddress: '127.0.0.1',
    })
    expect(second.status).toBe(200)
    expect(crowd.slice(0, 2).flatMap(({sockets}) => sockets)).toContain(await displaced)
    expect(signedIn.sockets[0]!.destroyed).toBe(false)
  })

  it('keeps a signed-in user’s idle connections though it holds the most, and displaces a stranger’s', async () => {
    const server = await smallServer()
    const signedIn = await keepAlive(server, '127.0.0.1', 4, '/api/secret', user.password)
    expect(signedIn.statuses).toEqual([200, 200, 200, 200])
    const crowd = [await keepAlive(server, '127.0.1.1', 2), await keepAlive(server, '127.0.1.2', 2)]
    const displaced = firstClosed([...signedIn.sockets, ...crowd.flatMap(({sockets}) => sockets)])
    const newcomer = await request(`${server.url}/api/secret`, {
      ca: server.ca,
      auth: user,
      localAddress: '127.0.2.1',
    })
    expect(newcomer.status).toBe(200)
    expect(crowd.flatMap(({sockets}) => sockets)).toContain(await displaced)
    expect(signedIn.sockets.every((socket) => !socket.destroyed)).toBe(true)
  })

  it('refuses a client’s connection over its own cap', async () => {
    const server = await smallServer()
    const client = await keepAlive(server, '127.0.1.1', 4)
    await expect(
      request(`${server.url}/healthz`, {ca: server.ca, localAddress: '127.0.1.1'}),
    ).rejects.toThrow()
    expect(client.sockets.every((socket) => !socket.destroyed)).toBe(true)
  })

  it('does not cap a client a user signed in from (the cap above holds for a stranger)', async () => {
    const server = await smallServer()
    await keepAlive(server, '127.0.1.1', 1, '/api/secret', user.password)
    const signedIn = await keepAlive(server, '127.0.1.1', 6)
    expect(signedIn.statuses).toEqual(Array(6).fill(200))
  })

  it('never caps a trusted proxy’s connections per client', async () => {
    const server = await smallServer({trustProxy: ['127.0.1.9']})
    const proxy = await keepAlive(server, '127.0.1.9', 7)
    expect(proxy.statuses).toEqual(Array(7).fill(200))
  })

  it('closes a locked-out client’s connection after its 429', async () => {
    const server = await smallServer()
    const guesser = await keepAlive(server, '127.0.1.1', 1, '/api/secret', 'not it')
    const socket = guesser.sockets[0]!
    const closed = firstClosed([socket])
    const answers: {status: number; connection: string | undefined}[] = []
    while (answers.at(-1)?.status !== 429) {
      answers.push(
        await new Promise((resolve, reject) => {
          const req = https.get(
            `${server.url}/api/secret`,
            {agent: guesser.agent, headers: {authorization: basicHeader(user.username, 'not it')}},
            (res) => {
              res.resume()
              res.on('end', () => resolve({status: res.statusCode ?? 0, connection: res.headers.connection}))
            },
          )
          req.on('error', reject)
        }),
      )
    }
    expect(answers.map(({status}) => status)).toEqual([401, 401, 401, 401, 429])
    expect(answers.at(-1)!.connection).toBe('close')
    expect(answers.slice(0, -1).every(({connection}) => connection === 'keep-alive')).toBe(true)
    expect(await closed).toBe(socket)
  })
})

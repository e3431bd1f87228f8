import https from 'node:https'

import {describe, expect, it} from 'vitest'

import {initialize} from '../../src/setup/init.js'
import {basicHeader, request} from '../helpers/https.js'
import {useTestServer, user} from '../helpers/server.js'
import {useTempDir} from '../helpers/temp.js'

const tempDir = useTempDir()
const startServer = useTestServer()

/** A GET through `agent` (keep-alive), resolving with the status only. */
function statusOf(url: string, ca: string, agent: https.Agent, password: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = https.request(
      url,
      {ca, agent, headers: {authorization: basicHeader(user.username, password)}},
      (res) => {
        res.resume()
        res.on('end', () => resolve(res.statusCode ?? 0))
        res.on('error', reject)
      },
    )
    req.setTimeout(60_000, () => req.destroy(new Error(`request to ${url} timed out`)))
    req.on('error', reject)
    req.end()
  })
}

describe('a guessing flood against the stored hash', () => {
  it('locks out an address that floods parallel new passwords, while another client’s first login succeeds', async () => {
    const configDir = tempDir()
    await initialize(configDir, {...user, secret: 'Mr Blue Sky', port: 8443, extraHosts: [], newCa: false})
    const server = await startServer(configDir, {credentials: undefined, secret: 'Mr Blue Sky'})
    const url = `${server.url}/api/secret`
    const connections = 6
    const agent = new https.Agent({keepAlive: true, maxSockets: connections, localAddress: '127.0.0.2'})
    let guess = 0
    // Each connection sends a new wrong password as soon as the last one is answered, until refused 429.
    const guesser = async (): Promise<number[]> => {
      const statuses: number[] = []
      while (statuses.at(-1) !== 429 && statuses.length < 30)
        statuses.push(await statusOf(url, server.ca, agent, `guess ${++guess}`))
      return statuses
    }
    try {
      const [flood, firstLogin] = await Promise.all([
        Promise.all(Array.from({length: connections}, guesser)),
        request(url, {ca: server.ca, auth: user, localAddress: '127.0.0.3', timeoutMs: 60_000}),
      ])
      expect(firstLogin.status).toBe(200)
      expect(JSON.parse(firstLogin.body)).toEqual({message: 'Mr Blue Sky'})
      expect(flood.map((statuses) => statuses.at(-1))).toEqual(Array(connections).fill(429))
      const answered = flood.flat()
      expect(answered).toContain(503)
      expect(answered.filter((status) => status === 401).length).toBeLessThan(5)
      expect(answered.every((status) => [401, 429, 503].includes(status))).toBe(true)
      const locked = await request(url, {ca: server.ca, auth: user, localAddress: '127.0.0.2'})
      expect(locked.status).toBe(429)
      expect((await request(url, {ca: server.ca, auth: user, localAddress: '127.0.0.3'})).status).toBe(200)
    } finally {
      agent.destroy()
    }
  }, 90_000)
})

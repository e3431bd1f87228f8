import {readFileSync} from 'node:fs'
import https from 'node:https'
import path from 'node:path'

import {describe, expect, it} from 'vitest'

import {hashPassword} from '../../src/credentials/hash.js'
import {initialize} from '../../src/setup/init.js'
import {defaultThrottle} from '../../src/web/throttle.js'
import {serveArgs, urlPattern, useCli} from '../helpers/cli.js'
import {useConfigCopies} from '../helpers/config-copies.js'
import {cheapHashParams} from '../helpers/hashes.js'
import {basicHeader, request} from '../helpers/https.js'
import {useTestServer, user} from '../helpers/server.js'
import {useTempDir} from '../helpers/temp.js'

const tempDir = useTempDir()
const startServer = useTestServer()
const startCli = useCli()
// Cheap hashes, so the test stays short on a busy machine; the order does not depend on their cost.
const initialised = useConfigCopies(async (configDir) =>
  initialize(configDir, {
    username: user.username,
    password: {storedHash: await hashPassword(user.password, cheapHashParams)},
    secret: 'Hold On Tight',
    port: 8443,
    extraHosts: [],
    newCa: false,
  }),
)

/** A GET through `agent` (keep-alive), resolving with the status only; without a password, no credentials. */
function statusOf(url: string, ca: string, agent: https.Agent, password?: string): Promise<number> {
  const headers = password === undefined ? {} : {authorization: basicHeader(user.username, password)}
  return new Promise((resolve, reject) => {
    const req = https.request(url, {ca, agent, headers}, (res) => {
      res.resume()
      res.on('end', () => resolve(res.statusCode ?? 0))
      res.on('error', reject)
    })
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

describe('the order of checks in a guessing flood', () => {
  it('checks a first login, and answers it 200, before the next answers of guessers that have already failed', async () => {
    const configDir = initialised()
    // Lockouts far off: a locked-out guesser is answered 429 at once, without waiting for hashing.
    const cli = startCli(serveArgs(configDir, '--max-failures', '100'))
    const [origin] = await cli.waitFor(urlPattern)
    const url = `${origin!}api/secret`
    const ca = readFileSync(path.join(configDir, 'ca.pem'), 'utf8')
    const guessers = 16
    const agents = Array.from(
      {length: guessers},
      (_, index) => new https.Agent({keepAlive: true, maxSockets: 1, localAddress: `127.0.1.${index + 1}`}),
    )
    const newcomer = new https.Agent({keepAlive: true, maxSockets: 1, localAddress: '127.0.2.1'})
    /** The guessers' answers as they came in. */
    const answers: number[] = []
    const failed = new Set<number>()
    let everyGuesserFailed!: () => void
    const allFailed = new Promise<void>((resolve) => (everyGuesserFailed = resolve))
    let flooding = true
    let guess = 0
    // Each guesser sends a new wrong password on its one connection as soon as the last is answered.
    const guesser = async (index: number) => {
      while (flooding) {
        const status = await statusOf(url, ca, agents[index]!, `guess ${++guess}`)
        answers.push(status)
        failed.add(index)
        if (failed.size === guessers) everyGuesserFailed()
      }
    }
    try {
      const flood = Promise.all(agents.map((_, index) => guesser(index)))
      await Promise.race([allFailed, flood])
      // Its connection opened first (no credentials: answered 401 at once, never hashed or counted),
      // so its login reaches the server while every guesser's next guess waits or is being checked.
      expect(await statusOf(url, ca, newcomer)).toBe(401)
      // The guessers' answers already read from their sockets are counted before it.
      await new Promise((resolve) => setImmediate(resolve))
      const sentAfter = answers.length
      const firstLogin = await statusOf(url, ca, newcomer, user.password)
      const answeredAfter = answers.length
      flooding = false
      await flood

      expect(firstLogin).toBe(200)
      expect(answers).toEqual(Array(answers.length).fill(401))
      // Ahead of it only the checks already running when it came (2), one that may end while its
      // request is on the way, and one that may start in the other slot beside its own and end first:
      // 4, and twice that for a busy machine, where the server may free slots before it reads the
      // request. Served in turns, as before, all sixteen guessers went first.
      expect(answeredAfter - sentAfter).toBeLessThanOrEqual(2 * (defaultThrottle.hashingSlots + 2))
    } finally {
      for (const agent of [...agents, newcomer]) agent.destroy()
    }
  }, 90_000)
})

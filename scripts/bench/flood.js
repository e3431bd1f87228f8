// Part 2: guessing floods, each against homeauth (stored hash) and the bare express app in turn, with
// the server on one core. Attackers on 127.0.1.1 upward (254 a /24, so 300 reach 127.0.2.46), each
// address with keep-alive connections sending requests back to back, each a new wrong password for
// the right user name; the rightful client on 127.0.0.1 (signed in once before, so its login is
// cached) with 4 connections back to back; and, some seconds in, a first uncached login from
// 127.0.3.1. Attackers and people run in two worker processes, both on the load core. The cases:
// issue 11's 64 × 3 (below homeauth's 256 connections), one connection each (a first login behind
// 64 clients' guesses, issue 20 part 2), and two crowds over the 256 connections (issue 20 part 3).
import {fileURLToPath} from 'node:url'

import {startWorker} from './children.js'
import {byId} from './contenders.js'
import {basicAuthorization, signIn} from './https-get.js'
import {newcomer, password, username} from './setup.js'

const floodClient = fileURLToPath(new URL('flood-client.js', import.meta.url))
const rightfulConnections = 4

/** The flood shapes, by attacker addresses × keep-alive connections per address. */
export const floodCases = [
  {id: '64x3', label: '64 × 3 (issue 11)', addresses: 64, connectionsPerAddress: 3},
  {id: '64x1', label: '64 × 1', addresses: 64, connectionsPerAddress: 1},
  {id: '64x5', label: 'crowd 64 × 5', addresses: 64, connectionsPerAddress: 5},
  {id: '300x1', label: 'crowd 300 × 1', addresses: 300, connectionsPerAddress: 1},
]

async function floodOne(contender, shape, files, ca, options) {
  const server = await contender.start(files)
  const attackers = startWorker(floodClient)
  const people = startWorker(floodClient)
  try {
    const url = `https://127.0.0.1:${server.port}/api/secret`
    const common = {url, ca, username, password, connections: rightfulConnections}
    await signIn(url, ca, basicAuthorization(username, password))
    const quiet = await people.run({
      ...common,
      role: 'quiet',
      startAt: Date.now(),
      seconds: options.quietSeconds,
    })
    const startAt = Date.now() + 500
    const [attack, during] = await Promise.all([
      attackers.run({
        role: 'attackers',
        url,
        ca,
        username,
        addresses: shape.addresses,
        connectionsPerAddress: shape.connectionsPerAddress,
        startAt,
        seconds: options.floodSeconds,
      }),
      people.run({
        ...common,
        role: 'people',
        startAt,
        seconds: options.floodSeconds,
        firstLoginAfterSeconds: options.firstLoginAfterSeconds,
        // homeauth has the rightful user's login cached: its first login is another user's, never
        // made before, so it waits for hashing. The bare app hashes nothing and knows one user.
        firstLogin: contender.id === 'homeauth' ? newcomer : {username, password},
      }),
    ])
    return {
      case: shape.id,
      id: contender.id,
      label: contender.label,
      quiet,
      rightful: during.rightful,
      firstLogin: during.firstLogin,
      attackers: attack,
    }
  } finally {
    await Promise.all([attackers.close(), people.close()])
    await server.stop()
  }
}

/** Each flood case against homeauth (stored hash), then the bare express app. */
export async function measureFlood(files, ca, options, log) {
  const results = []
  for (const shape of floodCases) {
    for (const id of ['homeauth', 'bare-express']) {
      const contender = byId(id)
      log(`flood ${shape.label}: ${contender.label}, ${options.floodSeconds} s`)
      results.push(await floodOne(contender, shape, files, ca, options))
    }
  }
  return results
}

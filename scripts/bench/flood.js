// Part 2: a guessing flood (the scenario of issue 11). With the server on one core: 64 attacker
// addresses (127.0.1.1–64) × 3 keep-alive connections, each request a new wrong password for the
// right user name; the rightful client on 127.0.0.1 (signed in once before, so its login is cached)
// with 4 connections back to back; and, some seconds in, a first uncached login from 127.0.2.1.
// Attackers and people run in two worker processes, both on the load core. 64 × 3 + 4 + 1
// connections stay below homeauth's maxConnections (256).
import {fileURLToPath} from 'node:url'

import {startWorker} from './children.js'
import {byId} from './contenders.js'
import {basicAuthorization, signIn} from './https-get.js'
import {password, username} from './setup.js'

const floodClient = fileURLToPath(new URL('flood-client.js', import.meta.url))
export const floodShape = {addresses: 64, connectionsPerAddress: 3, rightfulConnections: 4}

async function floodOne(contender, files, ca, options) {
  const server = await contender.start(files)
  const attackers = startWorker(floodClient)
  const people = startWorker(floodClient)
  try {
    const url = `https://127.0.0.1:${server.port}/api/secret`
    const common = {url, ca, username, password, connections: floodShape.rightfulConnections}
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
        addresses: floodShape.addresses,
        connectionsPerAddress: floodShape.connectionsPerAddress,
        startAt,
        seconds: options.floodSeconds,
      }),
      people.run({
        ...common,
        role: 'people',
        startAt,
        seconds: options.floodSeconds,
        firstLoginAfterSeconds: options.firstLoginAfterSeconds,
      }),
    ])
    return {
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

/** Floods homeauth (stored hash) and the bare express app in turn. */
export async function measureFlood(files, ca, options, log) {
  const results = []
  for (const id of ['homeauth', 'bare-express']) {
    const contender = byId(id)
    log(`flood: ${contender.label}, ${options.floodSeconds} s`)
    results.push(await floodOne(contender, files, ca, options))
  }
  return results
}

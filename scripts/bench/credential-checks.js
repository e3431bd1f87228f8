// Part 4: does a wrong guess cost the same whatever is wrong in it? Sequential guesses against
// homeauth (stored hash), the kinds in turn (their order rotating), each round from its own
// loopback address so no address gets near the lockout; medians of the answer times.
import https from 'node:https'

import {byId} from './contenders.js'
import {basicAuthorization, get} from './https-get.js'
import {password, username} from './setup.js'
import {median} from './stats.js'

const guesses = [
  {label: 'unknown user, right password', authorization: basicAuthorization('someone-else', password)},
  {
    label: 'right user, password off by one character',
    authorization: basicAuthorization(username, `${password.slice(0, -1)}X`),
  },
  {label: 'both wrong', authorization: basicAuthorization('someone-else', 'nope')},
]

export async function measureCredentialChecks(files, ca, options, log) {
  log(`credential checks: ${options.checkRounds} rounds of ${guesses.length} wrong guesses`)
  const server = await byId('homeauth').start(files)
  const url = `https://127.0.0.1:${server.port}/api/secret`
  const times = guesses.map(() => [])
  const statuses = {}
  try {
    for (let round = 0; round < options.checkRounds; round++) {
      const agent = new https.Agent({
        keepAlive: true,
        maxSockets: 1,
        localAddress: `127.0.3.${round + 1}`,
        ca,
      })
      // No Authorization header: the connection is set up, and nothing is counted against the address.
      await get(url, {agent})
      for (let turn = 0; turn < guesses.length; turn++) {
        const index = (round + turn) % guesses.length
        const {status, ms} = await get(url, {agent, authorization: guesses[index].authorization})
        statuses[status] = (statuses[status] ?? 0) + 1
        times[index].push(ms)
      }
      agent.destroy()
    }
  } finally {
    await server.stop()
  }
  return {
    statuses,
    guesses: guesses.map(({label}, index) => ({
      label,
      medianMs: median(times[index]),
      runs: times[index].length,
    })),
  }
}

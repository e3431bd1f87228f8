// Part 1: the cost of one request. Each contender is started fresh for each round (rounds
// interleaved, so drift on a shared machine spreads over all of them); per round: idle RSS, then
// authenticated GET /api/secret (one sign-in, warm-up, measured window, peak RSS), then the 401 path (no
// Authorization header: a challenge, never a counted failure), then for homeauth the 429 path.
import https from 'node:https'
import {setTimeout as sleep} from 'node:timers/promises'
import {fileURLToPath} from 'node:url'

import {startWorker} from './children.js'
import {contenders} from './contenders.js'
import {basicAuthorization, get, signIn} from './https-get.js'
import {memoryMiB} from './proc.js'
import {password, username} from './setup.js'
import {median, summarisePath, unexpected} from './stats.js'

const loadClient = fileURLToPath(new URL('load-client.js', import.meta.url))
const rightPair = basicAuthorization(username, password)
const wrongPair = basicAuthorization(username, 'wrong-password')
const homeauthMaxFailures = 5

/** Sends homeauth's limit of wrong passwords from 127.0.0.1, then checks that it now answers 429. */
async function lockOut(url, ca) {
  const agent = new https.Agent({ca, keepAlive: true, maxSockets: 1})
  try {
    for (let attempt = 0; attempt < homeauthMaxFailures; attempt++) {
      await get(url, {agent, authorization: basicAuthorization(username, `wrong-${attempt}`)})
    }
    const {status} = await get(url, {agent, authorization: wrongPair})
    if (status !== '429')
      throw new Error(`expected 429 after ${homeauthMaxFailures} wrong passwords, got ${status}`)
  } finally {
    agent.destroy()
  }
}

async function measureOnce(contender, {files, ca, worker, options}) {
  const server = await contender.start(files)
  try {
    await sleep(options.settleMs)
    const idleRssMiB = memoryMiB(server.pid).rss
    const url = `https://127.0.0.1:${server.port}/api/secret`
    const job = {
      url,
      connections: options.connections,
      serverPid: server.pid,
      warmupSeconds: options.warmupSeconds,
    }
    const run = async (authorization, seconds, expected) => {
      const result = await worker.run({...job, authorization, seconds})
      return {...result, expected, unexpected: unexpected(result.statuses, expected)}
    }
    await signIn(url, ca, rightPair)
    const ok = await run(rightPair, options.seconds, '200')
    const peakRssMiB = memoryMiB(server.pid).peak
    const challenge = await run(undefined, options.pathSeconds, '401')
    let throttled
    if (contender.measureThrottled) {
      await lockOut(url, ca)
      throttled = await run(wrongPair, options.pathSeconds, '429')
    }
    return {startMs: server.startMs, idleRssMiB, peakRssMiB, ok, challenge, throttled}
  } finally {
    await server.stop()
  }
}

/** Runs every contender `options.rounds` times and returns each one's medians (and every round's numbers). */
export async function measureRequestCost(files, ca, options, log) {
  const worker = startWorker(loadClient)
  const rounds = contenders.map(() => [])
  try {
    for (let round = 1; round <= options.rounds; round++) {
      for (const [index, contender] of contenders.entries()) {
        log(`requests: round ${round}/${options.rounds}, ${contender.label}`)
        rounds[index].push(await measureOnce(contender, {files, ca, worker, options}))
      }
    }
  } finally {
    await worker.close()
  }
  return contenders.map((contender, index) => {
    const runs = rounds[index]
    return {
      id: contender.id,
      label: contender.label,
      startMs: median(runs.map((run) => run.startMs)),
      idleRssMiB: median(runs.map((run) => run.idleRssMiB)),
      peakRssMiB: median(runs.map((run) => run.peakRssMiB)),
      ok: summarisePath(runs.map((run) => run.ok)),
      challenge: summarisePath(runs.map((run) => run.challenge)),
      throttled: summarisePath(runs.map((run) => run.throttled)),
      rounds: runs,
    }
  })
}

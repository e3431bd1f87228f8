// Worker process (pinned to the load core) for the flood: plays the attackers, or the people who
// belong (the rightful client with a cached login, and a first login in the middle of the flood).
// node:https, since each attacker needs its own source address (`localAddress`).
import https from 'node:https'
import {setTimeout as sleep} from 'node:timers/promises'

import {serveJobs} from './children.js'
import {basicAuthorization, get} from './https-get.js'
import {percentile} from './stats.js'

const graceMs = 3000
/** A refused attacker connects again after this, so the worker does not spin on the core the people share. */
const attackerBackoffMs = 50
/** Where the first login comes from: outside the attackers' addresses (127.0.1.1 upward). */
const firstLoginAddress = '127.0.3.1'

const sleepUntil = (epochMs) => sleep(Math.max(0, epochMs - Date.now()))

/** Sends requests back to back through `agent` until `deadline`; hands each outcome to `onResult`, and awaits it. */
async function loop(agent, {url, deadline, authorization, onResult}) {
  while (Date.now() < deadline) await onResult(await get(url, {agent, authorization: authorization()}))
}

/** Waits for the loops to end (at most `graceMs` after the deadline), then drops every connection. */
async function finish(loops, agents, deadline) {
  await Promise.race([Promise.all(loops), sleepUntil(deadline + graceMs)])
  for (const agent of agents) agent.destroy()
}

function count(counts, status) {
  counts[status] = (counts[status] ?? 0) + 1
}

/** The attacker address of `index`: 127.0.1.1 upward, 254 to a /24 (no .0 or .255). */
function attackerAddress(index) {
  return `127.0.${1 + Math.floor(index / 254)}.${1 + (index % 254)}`
}

/** `addresses` × `connectionsPerAddress`, each request with a new wrong password for the right user name. */
async function attack({url, ca, username, addresses, connectionsPerAddress, startAt, seconds}) {
  const deadline = startAt + seconds * 1000
  const statuses = {}
  const first429Ms = Array(addresses).fill(null)
  const agents = []
  const loops = []
  let guess = 0
  await sleepUntil(startAt)
  for (let index = 0; index < addresses; index++) {
    const agent = new https.Agent({
      keepAlive: true,
      maxSockets: connectionsPerAddress,
      localAddress: attackerAddress(index),
      ca,
    })
    agents.push(agent)
    const onResult = async ({status}) => {
      count(statuses, status)
      if (status === '429' && first429Ms[index] === null) first429Ms[index] = Date.now() - startAt
      if (status.startsWith('error:')) await sleep(attackerBackoffMs)
    }
    const authorization = () => basicAuthorization(username, `guess-${guess++}`)
    for (let connection = 0; connection < connectionsPerAddress; connection++) {
      loops.push(loop(agent, {url, deadline, authorization, onResult}))
    }
  }
  await finish(loops, agents, deadline)
  const answered = first429Ms.filter((ms) => ms !== null)
  return {
    statuses,
    addresses,
    addressesWith429: answered.length,
    maxFirst429Ms: answered.length > 0 ? Math.max(...answered) : null,
    first429Ms,
  }
}

/** The rightful client on 127.0.0.1: back-to-back requests with a login the server has cached. */
async function rightfulClient({url, ca, authorization, connections, startAt, seconds}) {
  const deadline = startAt + seconds * 1000
  const agent = new https.Agent({keepAlive: true, maxSockets: connections, localAddress: '127.0.0.1', ca})
  const statuses = {}
  const latencies = []
  const onResult = ({status, ms}) => {
    count(statuses, status)
    latencies.push(ms)
  }
  await sleepUntil(startAt)
  const loops = Array.from({length: connections}, () =>
    loop(agent, {url, deadline, authorization: () => authorization, onResult}),
  )
  await finish(loops, [agent], deadline)
  const requests = latencies.length
  return {
    requests,
    successPercent: requests > 0 ? ((statuses['200'] ?? 0) / requests) * 100 : 0,
    p50Ms: percentile(latencies, 0.5),
    p99Ms: percentile(latencies, 0.99),
    statuses,
  }
}

/**
 * A first, uncached login from a fresh address, `afterSeconds` into the flood: retries after
 * Retry-After on 503 (else after 250 ms) until a 200, then keeps asking and counts what it gets.
 */
async function firstLogin({url, ca, authorization, startAt, seconds, afterSeconds}) {
  const deadline = startAt + seconds * 1000
  const agent = new https.Agent({keepAlive: true, maxSockets: 1, localAddress: firstLoginAddress, ca})
  await sleepUntil(startAt + afterSeconds * 1000)
  const started = performance.now()
  const statuses = {}
  let attempts = 0
  let msToFirst200 = null
  while (Date.now() < deadline && msToFirst200 === null) {
    attempts++
    const {status, retryAfterSeconds} = await get(url, {agent, authorization})
    count(statuses, status)
    if (status === '200') msToFirst200 = performance.now() - started
    else {
      const waitMs = status === '503' && retryAfterSeconds ? retryAfterSeconds * 1000 : 250
      await sleep(Math.min(waitMs, Math.max(0, deadline - Date.now())))
    }
  }
  const onResult = ({status}) => count(statuses, status)
  await finish(
    [loop(agent, {url, deadline, authorization: () => authorization, onResult})],
    [agent],
    deadline,
  )
  return {msToFirst200, attempts, statuses}
}

serveJobs(async (job) => {
  const authorization =
    job.username && job.password ? basicAuthorization(job.username, job.password) : undefined
  if (job.role === 'attackers') return attack(job)
  if (job.role === 'quiet') return rightfulClient({...job, authorization})
  const [rightful, login] = await Promise.all([
    rightfulClient({...job, authorization}),
    firstLogin({
      ...job,
      authorization: basicAuthorization(job.firstLogin.username, job.firstLogin.password),
      afterSeconds: job.firstLoginAfterSeconds,
    }),
  ])
  return {rightful, firstLogin: login}
})

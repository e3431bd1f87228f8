// Worker process (pinned to the load core): runs autocannon jobs sent by request-cost.js and auth.js
// and reads the server's CPU time (and that of any `alsoPids`, by name) from /proc at the start and
// the end of each measured run.
import autocannon from 'autocannon'

import {serveJobs} from './children.js'
import {cpuMicros} from './proc.js'

function cannon(options, onStart) {
  return new Promise((resolve, reject) => {
    const instance = autocannon(options, (error, result) => (error ? reject(error) : resolve(result)))
    if (onStart) instance.once('start', onStart)
  })
}

serveJobs(async ({url, authorization, connections, warmupSeconds, seconds, serverPid, alsoPids = {}}) => {
  const options = {url, connections, headers: authorization ? {authorization} : {}}
  if (warmupSeconds > 0) await cannon({...options, duration: warmupSeconds})
  const pids = {server: serverPid, ...alsoPids}
  const cpuNow = () => Object.fromEntries(Object.entries(pids).map(([name, pid]) => [name, cpuMicros(pid)]))
  let cpuAtStart
  const result = await cannon({...options, duration: seconds}, () => {
    cpuAtStart = cpuNow()
  })
  const cpuAtEnd = cpuNow()
  const statuses = Object.fromEntries(
    Object.entries(result.statusCodeStats).map(([status, {count}]) => [status, count]),
  )
  if (result.errors > 0) statuses.error = result.errors
  if (result.timeouts > 0) statuses.timeout = result.timeouts
  const requests = Object.values(result.statusCodeStats).reduce((sum, {count}) => sum + count, 0)
  const perRequest = (name) => (requests > 0 ? (cpuAtEnd[name] - cpuAtStart[name]) / requests : undefined)
  return {
    requests,
    requestsPerSecond: requests / result.duration,
    p50Ms: result.latency.p50,
    p99Ms: result.latency.p99,
    cpuMicrosPerRequest: perRequest('server'),
    alsoCpuMicrosPerRequest: Object.fromEntries(
      Object.keys(alsoPids).map((name) => [name, perRequest(name)]),
    ),
    statuses,
  }
})

// Part 6: what forward auth costs, since homeauth's /auth answers before every request of every app a
// proxy guards. Directly: GET /auth on homeauth's --auth-listen (plain HTTP) next to a raw node:http
// gate. Then through real Caddy and nginx (the proxy, the gate and a small upstream app all on the
// server core): no auth, the proxy's own Basic auth, forward auth to the raw gate and to homeauth.
// Everything is started once; each round measures every case in turn (so drift on a shared machine
// spreads over all of them), and the report shows medians.
import path from 'node:path'
import {fileURLToPath} from 'node:url'

import {startServer, startWorker} from './children.js'
import {homeauthServe, script} from './contenders.js'
import {basicAuthorization, signIn} from './https-get.js'
import {proxyBinaries, startProxy} from './proxies.js'
import {message, password, username} from './setup.js'
import {summarisePath, unexpected} from './stats.js'

const loadClient = fileURLToPath(new URL('load-client.js', import.meta.url))
const rightPair = basicAuthorization(username, password)
const plainHttp = /http:\/\/127\.0\.0\.1:(\d+)\//

/** Who answers /auth: each one's label in the direct table, and its short name behind a proxy. */
const gates = {
  'raw-gate': {label: 'raw node:http gate (forward-auth floor)', short: 'raw gate'},
  homeauth: {label: 'homeauth serve --auth-listen', short: 'homeauth'},
}

/** The sites each proxy serves: `auth` picks the config (proxies.js), `gate` the forward-auth answerer. */
const proxyCases = [
  {id: 'none', auth: 'none', label: {caddy: 'no auth', nginx: 'no auth'}},
  {
    id: 'own',
    auth: 'own',
    label: {caddy: 'basicauth (bcrypt, its cache)', nginx: 'auth_basic (htpasswd, apr1)'},
  },
  ...Object.entries(gates).map(([gate, {short}]) => ({
    id: gate,
    auth: 'forward',
    gate,
    label: {caddy: `forward_auth → ${short}`, nginx: `auth_request → ${short}`},
  })),
]

/** Runs `options.rounds` rounds of every case and returns each one's medians (and every round's numbers). */
export async function measureAuth(files, options, log) {
  const worker = startWorker(loadClient)
  const running = []
  const measure = async (url, serverPid, alsoPids) => {
    await signIn(url, undefined, rightPair)
    const result = await worker.run({
      url,
      authorization: rightPair,
      connections: options.authConnections,
      serverPid,
      alsoPids,
      warmupSeconds: options.warmupSeconds,
      seconds: options.seconds,
    })
    return {...result, expected: '200', unexpected: unexpected(result.statuses, '200')}
  }
  try {
    log('auth: starting the gates, the upstream app and the proxies')
    const rawGate = await startServer({
      args: [script('raw-gate'), '--username', username],
      env: {BENCH_PASSWORD: password},
      ready: /listening on/,
      address: plainHttp,
    })
    running.push(rawGate)
    // As docs/forward-auth.md sets it up: /auth on loopback, the proxy trusted for X-Forwarded-For.
    const homeauth = await homeauthServe(files, {
      args: ['--auth-listen', '127.0.0.1:0', '--trust-proxy', '127.0.0.1'],
      address: /Forward auth for a proxy on this machine: http:\/\/127\.0\.0\.1:(\d+)\//,
    })
    running.push(homeauth)
    const gateServers = {'raw-gate': rawGate, homeauth}
    const app = await startServer({
      args: [script('upstream'), '--message', message],
      ready: /listening on/,
      address: plainHttp,
    })
    running.push(app)
    const proxies = []
    for (const proxy of Object.keys(proxyBinaries)) {
      const cases = proxyCases.map(({id, auth, gate}) => ({
        id,
        auth,
        gate: gate && `127.0.0.1:${gateServers[gate].port}`,
      }))
      const started = await startProxy(proxy, path.join(files.dir, proxy), cases, {
        app: `127.0.0.1:${app.port}`,
        username,
        password,
      })
      if (started) running.push(started)
      proxies.push({proxy, binary: proxyBinaries[proxy], started})
    }

    const direct = Object.entries(gates).map(([id, {label}]) => ({id, label, rounds: []}))
    const through = proxies.map(({proxy, binary, started}) => ({
      proxy,
      binary,
      skipped: !started,
      cases: started
        ? proxyCases.map(({id, gate, label}) => ({id, gate, label: label[proxy], rounds: []}))
        : [],
    }))
    for (let round = 1; round <= options.rounds; round++) {
      for (const entry of direct) {
        log(`auth: round ${round}/${options.rounds}, ${entry.label}, direct`)
        const gate = gateServers[entry.id]
        entry.rounds.push(await measure(`http://127.0.0.1:${gate.port}/auth`, gate.pid, {}))
      }
      for (const [index, {proxy, started}] of proxies.entries()) {
        if (!started) continue
        for (const entry of through[index].cases) {
          log(`auth: round ${round}/${options.rounds}, ${proxy}, ${entry.label}`)
          const alsoPids = {app: app.pid, ...(entry.gate ? {gate: gateServers[entry.gate].pid} : {})}
          entry.rounds.push(await measure(`${started.urls[entry.id]}/`, started.pid, alsoPids))
        }
      }
    }
    const summarise = ({rounds, ...entry}) => ({...entry, ...summarisePath(rounds), rounds})
    return {
      connections: options.authConnections,
      direct: direct.map(summarise),
      proxies: through.map(({cases, ...proxy}) => ({...proxy, cases: cases.map(summarise)})),
    }
  } finally {
    for (const started of running.reverse()) await started.stop()
    await worker.close()
  }
}

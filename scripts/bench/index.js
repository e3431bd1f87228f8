#!/usr/bin/env node
// npm run bench: what a request, a guessing flood, a CLI start and a forward-auth answer cost in
// homeauth, next to baselines measured in the same run (issues 11 and 20). Linux only (/proc); about
// 11 minutes, `--quick` 5.
//
// Every server is its own child process, on 127.0.0.1 port 0, with the certificate (EC P-256, from
// its local CA) that a non-interactive `homeauth init` made in a temporary directory, and the same
// JSON message. With ≥ 2 cores, servers run on core 0 and the load generators on core 1 (taskset).
//
// 1. Request cost (request-cost.js): autocannon, 32 keep-alive connections, authenticated
//    GET /api/secret against a raw node:https handler (Node's floor), a bare express 5 app (the
//    express floor), express + express-basic-auth, homeauth serve with the stored hash and with
//    credentials given at start-up. Per round and server: idle RSS (VmRSS before load), one sign-in
//    (so homeauth has the login cached), a warm-up, the measured window (req/s, p50/p99, server CPU
//    per request from /proc/<pid>/stat utime+stime over the window), peak RSS (VmHWM), then the 401 path (no Authorization header) and, for
//    homeauth, the 429 path (5 wrong passwords, then wrong credentials). Medians of the rounds.
//    Every status other than the expected one is counted and shown.
// 2. Flood (flood.js): attacker addresses sending new wrong passwords on keep-alive connections, the
//    rightful client with a cached login, and a first uncached login some seconds in; against
//    homeauth and the bare express app, in four cases: 64 addresses × 3 connections (issue 11),
//    64 × 1 (the first login behind one guess per address), and two crowds over homeauth's 256
//    connections, 64 × 5 and 300 × 1 (issue 20).
// 3. CLI start-up (startup.js): medians of one-shot runs against `node -e 0` and a minimal oclif CLI.
// 4. Credential checks (credential-checks.js): how long homeauth takes to refuse each kind of wrong
//    guess (unknown user, wrong password, both), to show the check costs the same whatever is wrong.
// 5. Device sign-in (device-sign-in.js): a device's own password (an HMAC) next to the stored hash
//    (scrypt, then cached), first sign-in and later ones.
// 6. Forward auth (auth.js): autocannon, 16 keep-alive connections, valid Basic credentials, GET /auth
//    on homeauth's --auth-listen (plain HTTP, login cached by one request first) next to a raw
//    node:http gate (servers/raw-gate.js: one header compared, 200 + Remote-User, empty body). Then
//    through real Caddy and nginx (proxies.js: configs in the temporary directory, the forward-auth
//    recipes of docs/forward-auth.md as written), each with the gates and a small node:http upstream
//    app on core 0: no auth, the proxy's own Basic auth (Caddy basicauth with a bcrypt hash, nginx
//    auth_basic with an apr1 htpasswd line), forward auth to the raw gate, forward auth to homeauth.
//    req/s, p50/p99, and CPU per request of the proxy and of the gate. A proxy whose binary is
//    missing is skipped, and the report says so.
// Then the targets of issues 11 and 20, met or missed. Tables go to stdout (markdown), progress to stderr,
// everything measured to a JSON file with --json <file>.
import {readFileSync, writeFileSync} from 'node:fs'
import os from 'node:os'
import {parseArgs} from 'node:util'

import {measureAuth} from './auth.js'
import {killAll, pinning} from './children.js'
import {measureCredentialChecks} from './credential-checks.js'
import {measureDeviceSignIn} from './device-sign-in.js'
import {measureFlood} from './flood.js'
import {render, targets} from './report.js'
import {measureRequestCost} from './request-cost.js'
import {prepare} from './setup.js'
import {measureStartup} from './startup.js'

const usage = `Usage: npm run bench -- [options]
  --quick                 one round of shorter windows, 8 s floods, 5 start-up runs (about 5 min)
  --only <parts>          requests,flood,startup,checks,devices,auth (comma-separated; default all)
  --rounds <n>            rounds of the request and forward-auth measurements (default 3)
  --seconds <s>           measured window of each authenticated path (default 5)
  --path-seconds <s>      measured window of the 401 and 429 paths (default 2)
  --warmup <s>            warm-up before each window (default 1)
  --flood-seconds <s>     length of each flood (default 15); the flood part runs 4 cases × 2 servers,
                          about 4 min by default, 2–3 min with --quick
  --first-login-at <s>    when the first uncached login starts, into the flood (default 5)
  --startup-runs <n>      runs of each CLI command (default 15)
  --json <file>           also write every number measured to <file> as JSON
  --help`

const allParts = ['requests', 'flood', 'startup', 'checks', 'devices', 'auth']
const {values} = parseArgs({
  options: {
    quick: {type: 'boolean', default: false},
    only: {type: 'string', default: allParts.join(',')},
    rounds: {type: 'string'},
    seconds: {type: 'string'},
    'path-seconds': {type: 'string'},
    warmup: {type: 'string'},
    'flood-seconds': {type: 'string'},
    'first-login-at': {type: 'string'},
    'startup-runs': {type: 'string'},
    json: {type: 'string'},
    help: {type: 'boolean', default: false},
  },
})
if (values.help) {
  console.log(usage)
  process.exit(0)
}

const defaults = values.quick
  ? {
      rounds: 1,
      seconds: 2,
      pathSeconds: 1,
      warmupSeconds: 1,
      floodSeconds: 8,
      firstLoginAfterSeconds: 3,
      quietSeconds: 1,
      startupRuns: 5,
      checkRounds: 3,
    }
  : {
      rounds: 3,
      seconds: 5,
      pathSeconds: 2,
      warmupSeconds: 1,
      floodSeconds: 15,
      firstLoginAfterSeconds: 5,
      quietSeconds: 3,
      startupRuns: 15,
      checkRounds: 7,
    }
function usageError(problem) {
  console.error(`${problem}\n\n${usage}`)
  process.exit(2)
}
function whole(value, fallback) {
  if (value === undefined) return fallback
  const number = Math.round(Number(value))
  if (!Number.isFinite(number) || number < 1)
    usageError(`Expected a whole number of at least 1, not ${value}.`)
  return number
}
const options = {
  connections: 32,
  authConnections: 16,
  settleMs: 1000,
  rounds: whole(values.rounds, defaults.rounds),
  seconds: whole(values.seconds, defaults.seconds),
  pathSeconds: whole(values['path-seconds'], defaults.pathSeconds),
  warmupSeconds: whole(values.warmup, defaults.warmupSeconds),
  floodSeconds: whole(values['flood-seconds'], defaults.floodSeconds),
  firstLoginAfterSeconds: whole(values['first-login-at'], defaults.firstLoginAfterSeconds),
  quietSeconds: defaults.quietSeconds,
  startupRuns: whole(values['startup-runs'], defaults.startupRuns),
  checkRounds: defaults.checkRounds,
}
options.initRuns = Math.max(3, Math.ceil(options.startupRuns / 3))
if (options.firstLoginAfterSeconds >= options.floodSeconds) {
  usageError(
    `The first login (--first-login-at ${options.firstLoginAfterSeconds}) must start before the flood ends.`,
  )
}
const parts = new Set(values.only.split(',').map((part) => part.trim()))
const unknownParts = [...parts].filter((part) => !allParts.includes(part))
if (unknownParts.length > 0)
  usageError(`Unknown part ${unknownParts.join(', ')}: choose from ${allParts.join(', ')}.`)

const began = performance.now()
const log = (line) =>
  console.error(`[${((performance.now() - began) / 1000).toFixed(0).padStart(3)} s] ${line}`)

log('homeauth init in a temporary directory')
const files = prepare()
process.once('exit', () => {
  killAll()
  files.remove()
})
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.once(signal, () => process.exit(130))

try {
  const ca = readFileSync(files.caFile, 'utf8')
  const results = {
    environment: {
      date: new Date().toISOString().slice(0, 10),
      node: process.version,
      cpu: os.cpus()[0]?.model,
      cores: pinning.cores,
      pinned: pinning.pinned,
    },
    options,
  }
  if (parts.has('requests')) results.requestCost = await measureRequestCost(files, ca, options, log)
  if (parts.has('flood')) results.flood = await measureFlood(files, ca, options, log)
  if (parts.has('startup')) results.startup = await measureStartup(files, options, log)
  if (parts.has('checks')) results.credentialChecks = await measureCredentialChecks(files, ca, options, log)
  if (parts.has('devices')) results.deviceSignIn = await measureDeviceSignIn(files, ca, options, log)
  if (parts.has('auth')) results.auth = await measureAuth(files, options, log)
  results.targets = targets(results)
  log('done')
  process.stdout.write(render(results))
  if (values.json) writeFileSync(values.json, `${JSON.stringify(results, null, 2)}\n`)
} catch (error) {
  console.error(error)
  process.exitCode = 1
}

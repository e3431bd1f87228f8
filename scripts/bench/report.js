// Turns the measurements into markdown tables (stdout) and checks them against the targets of issues 11
// and 20.

import {floodCases} from './flood.js'

const fixed = (value, digits = 0) =>
  value === undefined || value === null || Number.isNaN(value)
    ? '–'
    : value.toLocaleString('en-US', {minimumFractionDigits: digits, maximumFractionDigits: digits})
const ratio = (value, base) => (value !== undefined && base ? value / base : undefined)
const times = (value) => (value === undefined ? '–' : `${fixed(value, 2)}×`)
const counts = (statuses) =>
  Object.keys(statuses ?? {}).length === 0
    ? '–'
    : Object.entries(statuses)
        .map(([status, count]) => `${status}×${count}`)
        .join(' ')

const numeric = /^[\d–][\d,. /–]*( ?(×|ms|%|MiB|s))?$/

/** A markdown table padded for the terminal: text columns left-aligned, numeric ones right-aligned. */
function table(header, rows) {
  const columns = header.map((_, index) => [header[index], ...rows.map((row) => String(row[index]))])
  const widths = columns.map((cells) => Math.max(3, ...cells.map((cell) => cell.length)))
  const right = columns.map((cells, index) => index > 0 && cells.slice(1).every((cell) => numeric.test(cell)))
  const line = (cells) =>
    `| ${cells.map((cell, index) => (right[index] ? String(cell).padStart(widths[index]) : String(cell).padEnd(widths[index]))).join(' | ')} |`
  const rule = `| ${widths.map((width, index) => (right[index] ? `${'-'.repeat(width - 1)}:` : '-'.repeat(width))).join(' | ')} |`
  return [line(header), rule, ...rows.map(line)].join('\n')
}

function requestTables(requestCost) {
  const express = requestCost.find(({id}) => id === 'bare-express')
  const okRows = requestCost.map(({label, ok, peakRssMiB, idleRssMiB, startMs}) => [
    label,
    fixed(ok.requestsPerSecond),
    fixed(ok.p50Ms),
    fixed(ok.p99Ms),
    fixed(ok.cpuMicrosPerRequest),
    times(ratio(ok.cpuMicrosPerRequest, express?.ok.cpuMicrosPerRequest)),
    times(ratio(ok.requestsPerSecond, express?.ok.requestsPerSecond)),
    fixed(peakRssMiB),
    fixed(idleRssMiB),
    fixed(startMs),
    counts(ok.unexpected),
  ])
  const pathRows = requestCost.flatMap(({label, challenge, throttled}) =>
    [challenge, throttled]
      .filter(Boolean)
      .map((path) => [
        label,
        path.expected === '401' ? '401 (no Authorization)' : '429 (locked out)',
        fixed(path.requestsPerSecond),
        fixed(path.p99Ms),
        fixed(path.cpuMicrosPerRequest),
        counts(path.unexpected),
      ]),
  )
  return [
    table(
      [
        'server',
        'req/s',
        'p50 ms',
        'p99 ms',
        'CPU µs/req',
        'CPU vs express',
        'req/s vs express',
        'peak RSS MiB',
        'idle RSS MiB',
        'start ms',
        'unexpected statuses',
      ],
      okRows,
    ),
    table(['server', 'path', 'req/s', 'p99 ms', 'CPU µs/req', 'unexpected statuses'], pathRows),
  ]
}

/** Statuses split into HTTP answers and connection failures (`error:CODE`, `timeout`). */
function splitStatuses(statuses) {
  const answers = {}
  const failures = {}
  for (const [status, count] of Object.entries(statuses ?? {}))
    (/^\d+$/.test(status) ? answers : failures)[status.replace(/^error:/, '')] = count
  return {answers, failures}
}

const floodCaseLabel = (id) => floodCases.find((shape) => shape.id === id)?.label ?? id

function floodTables(flood, options) {
  const label = (result) => `${floodCaseLabel(result.case)}: ${result.label}`
  const people = flood.map((result) => {
    const {quiet, rightful, firstLogin} = result
    return [
      label(result),
      `${fixed(quiet.p50Ms, 1)} / ${fixed(quiet.p99Ms, 1)}`,
      fixed(rightful.requests),
      `${fixed(rightful.successPercent, 1)} %`,
      `${fixed(rightful.p50Ms, 1)} / ${fixed(rightful.p99Ms, 1)}`,
      counts(rightful.statuses),
      firstLogin.msToFirst200 === null ? 'never' : `${fixed(firstLogin.msToFirst200)} ms`,
      fixed(firstLogin.attempts),
      counts(firstLogin.statuses),
    ]
  })
  const attackers = flood.map((result) => {
    const {answers, failures} = splitStatuses(result.attackers.statuses)
    return [
      label(result),
      counts(answers),
      counts(failures),
      `${result.attackers.addressesWith429} / ${result.attackers.addresses}`,
      result.attackers.maxFirst429Ms === null ? '–' : `${fixed(result.attackers.maxFirst429Ms / 1000, 1)} s`,
    ]
  })
  return [
    table(
      [
        `case: server (flood ${options.floodSeconds} s)`,
        'rightful p50 / p99 ms, no flood',
        'rightful requests',
        'rightful success',
        'rightful p50 / p99 ms',
        'rightful statuses',
        `first login (at ${options.firstLoginAfterSeconds} s): time to 200`,
        'its attempts',
        'its statuses',
      ],
      people,
    ),
    table(
      [
        'case: server',
        'attackers’ statuses',
        'attackers’ connection errors',
        'addresses answered 429',
        'latest first 429',
      ],
      attackers,
    ),
  ]
}

function startupTable(startup) {
  const base = startup.find(({id}) => id === 'minimal-oclif')?.medianMs
  return table(
    ['command', 'median ms', 'vs minimal oclif --version', 'runs'],
    startup.map(({label, medianMs, runs}) => [
      label,
      fixed(medianMs),
      times(ratio(medianMs, base)),
      fixed(runs),
    ]),
  )
}

const proxyNames = {caddy: 'Caddy', nginx: 'nginx'}

function authTables(auth) {
  const raw = auth.direct.find(({id}) => id === 'raw-gate')
  const direct = table(
    [
      'answerer',
      'req/s',
      'p50 ms',
      'p99 ms',
      'CPU µs/req',
      'CPU vs raw gate',
      'req/s vs raw gate',
      'unexpected statuses',
    ],
    auth.direct.map(({label, requestsPerSecond, p50Ms, p99Ms, cpuMicrosPerRequest, unexpected}) => [
      label,
      fixed(requestsPerSecond),
      fixed(p50Ms),
      fixed(p99Ms),
      fixed(cpuMicrosPerRequest),
      times(ratio(cpuMicrosPerRequest, raw?.cpuMicrosPerRequest)),
      times(ratio(requestsPerSecond, raw?.requestsPerSecond)),
      counts(unexpected),
    ]),
  )
  const measured = auth.proxies.filter(({skipped}) => !skipped)
  const through = table(
    [
      'proxy',
      'auth',
      'req/s',
      'p50 ms',
      'p99 ms',
      'proxy CPU µs/req',
      'gate CPU µs/req',
      'req/s vs raw gate',
      'unexpected statuses',
    ],
    measured.flatMap(({proxy, cases}) => {
      const rawGate = cases.find(({id}) => id === 'raw-gate')
      return cases.map(
        ({
          label,
          requestsPerSecond,
          p50Ms,
          p99Ms,
          cpuMicrosPerRequest,
          alsoCpuMicrosPerRequest,
          unexpected,
        }) => [
          proxyNames[proxy],
          label,
          fixed(requestsPerSecond),
          fixed(p50Ms),
          fixed(p99Ms),
          fixed(cpuMicrosPerRequest),
          fixed(alsoCpuMicrosPerRequest.gate),
          times(ratio(requestsPerSecond, rawGate?.requestsPerSecond)),
          counts(unexpected),
        ],
      )
    }),
  )
  const skipped = auth.proxies
    .filter(({skipped}) => skipped)
    .map(({proxy, binary}) => `${proxyNames[proxy]} skipped: ${binary} is not installed.`)
  return [direct, ...(measured.length > 0 ? [through] : []), ...skipped]
}

const target = (name, value, met) => ({name, value, met: value === '–' ? false : met})

/** The targets of issue 20 for forward auth; the one against the express app needs the requests part. */
function authTargets(auth, requestCost) {
  const homeauth = auth.direct.find(({id}) => id === 'homeauth')
  const express = requestCost?.find(({id}) => id === 'bare-express')
  const cheaper = '/auth CPU per request ≤ the bare express app’s for /api/secret'
  const list = [
    express
      ? target(
          cheaper,
          `${fixed(homeauth.cpuMicrosPerRequest)} vs ${fixed(express.ok.cpuMicrosPerRequest)} µs`,
          homeauth.cpuMicrosPerRequest <= express.ok.cpuMicrosPerRequest,
        )
      : target(cheaper, 'run with requests', undefined),
  ]
  for (const {proxy, binary, skipped, cases} of auth.proxies) {
    const name = proxyNames[proxy]
    if (skipped) {
      list.push(target(`through ${name}: homeauth next to the raw gate`, `skipped (no ${binary})`, undefined))
      continue
    }
    const [home, raw] = ['homeauth', 'raw-gate'].map((id) => cases.find((entry) => entry.id === id))
    const rate = ratio(home.requestsPerSecond, raw.requestsPerSecond)
    list.push(
      target(`through ${name}: homeauth req/s ≥ 0.8× the raw gate’s`, times(rate), rate >= 0.8),
      target(
        `through ${name}: homeauth p99 ≤ 2× the raw gate’s`,
        `${fixed(home.p99Ms)} vs ${fixed(raw.p99Ms)} ms`,
        home.p99Ms <= 2 * raw.p99Ms,
      ),
    )
  }
  return list
}

/** Each target of issues 11 and 20 that the parts run can judge: its name, the measured value, met, missed or not judged (undefined). */
export function targets({requestCost, flood, startup, auth}) {
  const list = []
  if (requestCost) {
    const find = (id) => requestCost.find((contender) => contender.id === id)
    const [homeauth, express, peer] = [find('homeauth'), find('bare-express'), find('express-basic-auth')]
    const cpu = ratio(homeauth.ok.cpuMicrosPerRequest, express.ok.cpuMicrosPerRequest)
    const rate = ratio(homeauth.ok.requestsPerSecond, express.ok.requestsPerSecond)
    const throttledCpu = ratio(homeauth.throttled?.cpuMicrosPerRequest, homeauth.ok.cpuMicrosPerRequest)
    const peak = ratio(homeauth.peakRssMiB, express.peakRssMiB)
    const ahead =
      homeauth.ok.requestsPerSecond > peer.ok.requestsPerSecond &&
      homeauth.ok.cpuMicrosPerRequest < peer.ok.cpuMicrosPerRequest
    list.push(
      target('CPU per request ≤ 1.15× the express floor', times(cpu), cpu <= 1.15),
      target('req/s ≥ 0.87× the express floor', times(rate), rate >= 0.87),
      target(
        'ahead of express-basic-auth (more req/s and less CPU per request)',
        `${fixed(homeauth.ok.requestsPerSecond)} vs ${fixed(peer.ok.requestsPerSecond)} req/s, ${fixed(homeauth.ok.cpuMicrosPerRequest)} vs ${fixed(peer.ok.cpuMicrosPerRequest)} µs`,
        ahead,
      ),
      target('429 path CPU ≤ 0.8× the 200 path’s', times(throttledCpu), throttledCpu <= 0.8),
      target('peak RSS under load ≤ 1.1× the express floor', times(peak), peak <= 1.1),
      target('idle RSS ≤ 65 MiB', `${fixed(homeauth.idleRssMiB)} MiB`, homeauth.idleRssMiB <= 65),
    )
  }
  if (flood) {
    for (const {id, label} of floodCases) {
      const homeauth = flood.find((result) => result.case === id && result.id === 'homeauth')
      const express = flood.find((result) => result.case === id && result.id === 'bare-express')
      if (!homeauth || !express) continue
      const p99 = ratio(homeauth.rightful.p99Ms, express.rightful.p99Ms)
      const login = homeauth.firstLogin.msToFirst200
      list.push(
        target(
          `flood ${label}: cached rightful user 100 % success`,
          `${fixed(homeauth.rightful.successPercent, 1)} %`,
          homeauth.rightful.successPercent === 100,
        ),
        target(`flood ${label}: rightful p99 ≤ 2× the express floor’s in its flood`, times(p99), p99 <= 2),
        target(
          `flood ${label}: first uncached login within 3 s`,
          login === null ? 'never' : `${fixed(login)} ms`,
          login !== null && login <= 3000,
        ),
      )
      // Issue 11's case only: with one connection per address, 5 failures each take longer to hash
      // than a flood lasts.
      if (id !== '64x3') continue
      const {addressesWith429, addresses, maxFirst429Ms} = homeauth.attackers
      list.push(
        target(
          `flood ${label}: every address answered 429 within 30 s (as far as the flood lasts)`,
          `${addressesWith429} / ${addresses}${maxFirst429Ms === null ? '' : `, latest ${fixed(maxFirst429Ms / 1000, 1)} s`}`,
          addressesWith429 === addresses && maxFirst429Ms <= 30_000,
        ),
      )
    }
  }
  if (startup) {
    const ms = (id) => startup.find((command) => command.id === id)?.medianMs
    const base = ms('minimal-oclif')
    for (const [id, limit] of [
      ['version', 1.05],
      ['status', 1.2],
      ['fetch-secret', 1.3],
    ]) {
      const value = ratio(ms(id), base)
      const label = startup.find((command) => command.id === id).label.replace(/ \(.*/, '')
      list.push(target(`CLI: ${label} ≤ ${limit}× minimal oclif --version`, times(value), value <= limit))
    }
    list.push(target('CLI: non-interactive init < 1 s', `${fixed(ms('init'))} ms`, ms('init') < 1000))
  }
  if (auth) list.push(...authTargets(auth, requestCost))
  return list
}

/** The whole report as markdown. */
export function render(results) {
  const {environment, options} = results
  const sections = [
    `homeauth bench — ${environment.date}, node ${environment.node}, ${environment.cores} cores, ` +
      (environment.pinned
        ? 'servers pinned to core 0, load generators to core 1'
        : 'not pinned (needs 2 cores and taskset)'),
  ]
  if (results.requestCost) {
    sections.push(
      `## Authenticated keep-alive GET /api/secret (${options.connections} connections, ${options.seconds} s after ${options.warmupSeconds} s warm-up, median of ${options.rounds} round${options.rounds === 1 ? '' : 's'})`,
      ...requestTables(results.requestCost),
    )
  }
  if (results.flood)
    sections.push(
      '## Guessing flood (server on one core; p50 / p99 in ms)',
      ...floodTables(results.flood, options),
    )
  if (results.startup) sections.push('## CLI start-up (process start to exit)', startupTable(results.startup))
  if (results.credentialChecks) {
    const {guesses, statuses} = results.credentialChecks
    sections.push(
      `## Credential checks: homeauth's answer time to each kind of wrong guess (statuses: ${counts(statuses)})`,
      table(
        ['guess', 'median ms', 'runs'],
        guesses.map(({label, medianMs, runs}) => [label, fixed(medianMs, 1), fixed(runs)]),
      ),
    )
  }
  if (results.deviceSignIn) {
    const {signIns, statuses} = results.deviceSignIn
    sections.push(
      `## Device sign-in: a device's own password next to the stored hash (statuses: ${counts(statuses)})`,
      table(
        ['sign-in', 'median ms', 'runs'],
        signIns.map(({label, medianMs, runs}) => [label, fixed(medianMs, 2), fixed(runs)]),
      ),
    )
  }
  if (results.auth) {
    const {auth} = results
    const [direct, ...throughProxies] = authTables(auth)
    sections.push(
      `## Forward auth: authenticated keep-alive GET /auth, directly (plain HTTP, ${auth.connections} connections, ${options.seconds} s after ${options.warmupSeconds} s warm-up, median of ${options.rounds} round${options.rounds === 1 ? '' : 's'})`,
      direct,
      '## Forward auth through real proxies (same load; the proxy, the gate and the upstream app share the server core)',
      ...throughProxies,
    )
  }
  if (results.targets.length > 0) {
    sections.push(
      '## Targets (issues 11 and 20)',
      table(
        ['target', 'measured', 'met'],
        results.targets.map(({name, value, met}) => [
          name,
          value,
          met === undefined ? 'not judged' : met ? 'met' : '**missed**',
        ]),
      ),
    )
  }
  return `${sections.join('\n\n')}\n`
}

#!/usr/bin/env node
// Benchmarks homeauth against baselines measured in the same run, and prints the numbers.
//   1. start-up: `homeauth --version` against `node -e 0`
//   2. serve: time until the banner, first start (CA + certificate made) and restart (reused)
//   3. fetch-secret: one whole client run, process start to message, against curl doing the same
//   4. credential check: median time of a stored-hash check for each kind of wrong guess, against
//      the right pair (no cache), to show the work does not depend on what was wrong
//   5. requests: authenticated GET /api/secret on homeauth against a bare Node https server
//      with the same certificate answering the same JSON (no auth, no headers), keep-alive.
// Usage: npm run bench [-- --requests 4000 --concurrency 16]
import {spawn, spawnSync} from 'node:child_process'
import {mkdtempSync, readFileSync, rmSync} from 'node:fs'
import https from 'node:https'
import os from 'node:os'
import path from 'node:path'
import {fileURLToPath} from 'node:url'
import {parseArgs} from 'node:util'

const {values} = parseArgs({
  options: {
    requests: {type: 'string', default: '4000'},
    concurrency: {type: 'string', default: '16'},
    runs: {type: 'string', default: '7'},
  },
})
const requests = Number(values.requests)
const concurrency = Number(values.concurrency)
const runs = Number(values.runs)
const runJs = fileURLToPath(new URL('../bin/run.js', import.meta.url))
const env = {...process.env, NO_COLOR: '1'}
delete env.NODE_EXTRA_CA_CERTS

const median = (numbers) => [...numbers].sort((a, b) => a - b)[Math.floor(numbers.length / 2)]
const percentile = (numbers, p) =>
  [...numbers].sort((a, b) => a - b)[Math.min(numbers.length - 1, Math.floor(numbers.length * p))]
const fmt = (ms) => `${ms.toFixed(1)} ms`

function timeCommand(args, command = process.execPath) {
  const times = []
  for (let run = 0; run < runs; run++) {
    const started = performance.now()
    const result = spawnSync(command, args, {env, stdio: 'ignore'})
    if (result.status !== 0) throw new Error(`${args.join(' ')} exited ${result.status}`)
    times.push(performance.now() - started)
  }
  return median(times)
}

function timeUntilBanner(configDir) {
  return new Promise((resolve, reject) => {
    const started = performance.now()
    const args = [runJs, 'serve', '--config-dir', configDir, '--host', '127.0.0.1', '--port', '0']
    const child = spawn(process.execPath, [...args, '-u', 'bench', '--password-stdin'], {env})
    child.stdin.end('bench-password\n')
    let output = ''
    child.stdout.on('data', (chunk) => {
      output += chunk
      const match = output.match(/https:\/\/127\.0\.0\.1:(\d+)\//)
      if (match && output.includes('Press Ctrl+C')) {
        const ms = performance.now() - started
        resolve({ms, port: Number(match[1]), child})
      }
    })
    child.on('exit', (code) => reject(new Error(`serve exited ${code}: ${output}`)))
  })
}

async function load(url, ca, headers) {
  const agent = new https.Agent({keepAlive: true, maxSockets: concurrency, ca})
  const latencies = []
  let next = 0
  const one = () =>
    new Promise((resolve, reject) => {
      const started = performance.now()
      https
        .get(url, {agent, headers}, (res) => {
          res.resume()
          res.on('end', () => {
            if (res.statusCode !== 200) return reject(new Error(`status ${res.statusCode}`))
            latencies.push(performance.now() - started)
            resolve()
          })
        })
        .on('error', reject)
    })
  const worker = async () => {
    while (next++ < requests) await one()
  }
  const started = performance.now()
  await Promise.all(Array.from({length: concurrency}, worker))
  const seconds = (performance.now() - started) / 1000
  agent.destroy()
  return {perSecond: requests / seconds, p50: percentile(latencies, 0.5), p99: percentile(latencies, 0.99)}
}

function baselineServer(dir) {
  const key = readFileSync(path.join(dir, 'server-key.pem'))
  const cert = readFileSync(path.join(dir, 'server.pem'))
  const body = JSON.stringify({message: 'Hello from homeauth: only you can read this.'})
  const server = https.createServer({key, cert}, (_req, res) => {
    res.setHeader('Content-Type', 'application/json; charset=utf-8')
    res.end(body)
  })
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)))
}

async function credentialTimings() {
  const {hashPassword} = await import('../dist/credentials/hash.js')
  const {VerifiedCredentialsCache} = await import('../dist/credentials/cache.js')
  const {createHashedVerifier} = await import('../dist/credentials/verifier.js')
  const stored = {username: 'JeffLynne', passwordHash: await hashPassword('Mr Blue Sky')}
  const verifier = createHashedVerifier(stored, new VerifiedCredentialsCache({ttlMs: 0}))
  const cases = {
    'right pair (baseline)': {username: 'JeffLynne', password: 'Mr Blue Sky'},
    'unknown user': {username: 'Bev', password: 'Mr Blue Sky'},
    'password off by one char': {username: 'JeffLynne', password: 'Mr Blue Skz'},
    'both wrong': {username: 'Bev', password: 'nope'},
  }
  const times = Object.fromEntries(Object.keys(cases).map((name) => [name, []]))
  for (let round = 0; round < runs * 2; round++) {
    for (const [name, credentials] of Object.entries(cases)) {
      const started = performance.now()
      await verifier.verify(credentials)
      times[name].push(performance.now() - started)
    }
  }
  return Object.entries(times).map(([name, values]) => [name, median(values)])
}

const dir = mkdtempSync(path.join(os.tmpdir(), 'homeauth-bench-'))
try {
  console.log(
    `homeauth benchmark — node ${process.version}, ${os.cpus().length} cores, NODE_EXTRA_CA_CERTS unset`,
  )
  console.log('\nStart-up (median of %d runs)', runs)
  const baseline = timeCommand(['-e', '0'])
  const version = timeCommand([runJs, '--version'])
  console.log(`  node -e 0 (baseline)     ${fmt(baseline)}`)
  console.log(`  homeauth --version       ${fmt(version)}  (+${fmt(version - baseline)})`)

  console.log('\nCredential check against the stored scrypt hash (median of %d, interleaved)', runs * 2)
  for (const [name, ms] of await credentialTimings()) console.log(`  ${name.padEnd(26)} ${fmt(ms)}`)

  console.log('\nserve: until the banner')
  const first = await timeUntilBanner(dir)
  first.child.kill('SIGTERM')
  await new Promise((resolve) => first.child.once('exit', resolve))
  const again = await timeUntilBanner(dir)
  console.log(`  first start (CA + cert)  ${fmt(first.ms)}`)
  console.log(`  restart (reused)         ${fmt(again.ms)}`)

  const url = `https://localhost:${again.port}/api/secret`
  const caFile = path.join(dir, 'ca.pem')
  console.log('\nOne secret fetched, process start to message (median of %d runs)', runs)
  if (spawnSync('curl', ['--version']).status === 0) {
    const curl = timeCommand(['-sf', '--cacert', caFile, '-u', 'bench:bench-password', url], 'curl')
    console.log(`  curl (baseline)          ${fmt(curl)}`)
  }
  const client = timeCommand([
    runJs,
    'fetch-secret',
    '--config-dir',
    dir,
    '--url',
    url,
    '-u',
    'bench',
    '-p',
    'bench-password',
  ])
  console.log(`  homeauth fetch-secret    ${fmt(client)}`)

  const ca = readFileSync(caFile)
  const authorization = `Basic ${Buffer.from('bench:bench-password').toString('base64')}`
  console.log(`\nGET /api/secret: ${requests} requests, ${concurrency} concurrent, keep-alive`)
  const bare = await baselineServer(dir)
  const bareResult = await load(`https://localhost:${bare.address().port}/api/secret`, ca, {})
  const homeauthResult = await load(`https://localhost:${again.port}/api/secret`, ca, {authorization})
  for (const [name, result] of [
    ['bare https (baseline)', bareResult],
    ['homeauth, authenticated', homeauthResult],
  ]) {
    console.log(
      `  ${name.padEnd(24)} ${result.perSecond.toFixed(0).padStart(6)} req/s  p50 ${fmt(result.p50)}  p99 ${fmt(result.p99)}`,
    )
  }
  console.log(
    `  homeauth / baseline      ${((homeauthResult.perSecond / bareResult.perSecond) * 100).toFixed(0)}% of the throughput`,
  )
  bare.close()
  again.child.kill('SIGTERM')
  await new Promise((resolve) => again.child.once('exit', resolve))
} finally {
  rmSync(dir, {recursive: true, force: true})
}

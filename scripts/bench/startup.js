// Part 3: one-shot CLI runs, process start to exit, unpinned (as a user runs them). Each command
// once to warm the file cache, then `runs` times, interleaved; medians.
import {spawn, spawnSync} from 'node:child_process'
import path from 'node:path'
import {fileURLToPath} from 'node:url'

import {childEnv} from './children.js'
import {byId} from './contenders.js'
import {homeauthBin, message, password, username} from './setup.js'
import {median} from './stats.js'

const minimalOclif = fileURLToPath(new URL('minimal-oclif/bin/run.js', import.meta.url))
const httpsClient = fileURLToPath(new URL('clients/https-client.js', import.meta.url))
const node = process.execPath

/** Runs one command; resolves its wall time in ms, or rejects when it exits with a code not in `exitCodes`. */
function timeOnce({command = node, args, env = {}, stdin, exitCodes = [0]}) {
  return new Promise((resolve, reject) => {
    const started = performance.now()
    const child = spawn(command, args, {env: childEnv(env), stdio: ['pipe', 'ignore', 'pipe']})
    child.stdin.end(stdin ?? '')
    let stderr = ''
    child.stderr.on('data', (chunk) => (stderr += chunk))
    child.once('error', reject)
    child.once('exit', (code) => {
      const ms = performance.now() - started
      if (exitCodes.includes(code)) resolve(ms)
      else reject(new Error(`${[command, ...args].join(' ')} exited ${code}:\n${stderr}`))
    })
  })
}

async function timeInterleaved(commands, runs) {
  const times = commands.map(() => [])
  for (let run = 0; run <= runs; run++) {
    for (const [index, command] of commands.entries()) {
      const ms = await timeOnce(
        typeof command.args === 'function' ? {...command, args: command.args(run)} : command,
      )
      if (run > 0) times[index].push(ms)
    }
  }
  return commands.map(({id, label}, index) => ({
    id,
    label,
    medianMs: median(times[index]),
    runs: times[index].length,
  }))
}

/** Times the CLI commands against `node -e 0` and a minimal oclif CLI. */
export async function measureStartup(files, options, log) {
  log(`start-up: ${options.startupRuns} runs of each command`)
  const idle = await timeInterleaved(
    [
      {id: 'node', label: 'node -e 0', args: ['-e', '0']},
      {id: 'minimal-oclif', label: 'minimal oclif 4 CLI --version', args: [minimalOclif, '--version']},
      {id: 'version', label: 'homeauth --version', args: [homeauthBin, '--version']},
      {
        id: 'status',
        label: 'homeauth status (not running: exit 3)',
        args: [homeauthBin, 'status', '--config-dir', files.configDir],
        exitCodes: [3],
      },
    ],
    options.startupRuns,
  )
  log(`start-up: homeauth init, ${options.initRuns} runs`)
  const init = await timeInterleaved(
    [
      {
        id: 'init',
        label: 'homeauth init (non-interactive, new CA)',
        args: (run) => [
          homeauthBin,
          'init',
          '--config-dir',
          path.join(files.dir, `init-${run}`),
          '-u',
          username,
          '--password-stdin',
          '--yes',
        ],
        stdin: `${password}\n`,
        env: {HOMEAUTH_SECRET: message},
      },
    ],
    options.initRuns,
  )
  log('start-up: clients against a running homeauth serve')
  const server = await byId('homeauth').start(files)
  try {
    const url = `https://127.0.0.1:${server.port}/api/secret`
    const clients = [
      {
        id: 'fetch-secret',
        label: 'homeauth fetch-secret (URL from state.json)',
        args: [homeauthBin, 'fetch-secret', '--config-dir', files.configDir, '-u', username],
        env: {HOMEAUTH_PASSWORD: password},
      },
      {
        id: 'https-client',
        label: 'bare node:https client',
        args: [httpsClient, url, files.caFile, username],
        env: {BENCH_PASSWORD: password},
      },
    ]
    if (spawnSync('curl', ['--version']).status === 0) {
      clients.push({
        id: 'curl',
        label: 'curl',
        command: 'curl',
        args: ['-sf', '-o', '/dev/null', '--cacert', files.caFile, '-u', `${username}:${password}`, url],
      })
    }
    const fetched = await timeInterleaved(clients, options.startupRuns)
    return [...idle, ...init, ...fetched]
  } finally {
    await server.stop()
  }
}

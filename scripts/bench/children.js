// Child processes of the bench: spawned pinned to a core when there are two, tracked, and all
// killed when the bench ends, however it ends.
import {spawn, spawnSync} from 'node:child_process'
import os from 'node:os'

const running = new Set()

/** Every child gets the same environment: no colour, and no extra CA bundle to load (≈ 40 ms a start). */
export function childEnv(extra = {}) {
  const env = {...process.env, NO_COLOR: '1', ...extra}
  delete env.NODE_EXTRA_CA_CERTS
  return env
}

/** Servers on core 0, load generators on core 1, when there are ≥ 2 cores and taskset. */
export const pinning = (() => {
  const cores = os.availableParallelism()
  const taskset = spawnSync('taskset', ['--version']).status === 0
  return {pinned: cores >= 2 && taskset, cores, serverCore: '0', loadCore: '1'}
})()

/** Spawns `command` (pinned to `core` when pinning is on) and tracks it until it exits. */
export function spawnTracked(command, args, {core, ...options} = {}) {
  const [file, argv] =
    core !== undefined && pinning.pinned ? ['taskset', ['-c', core, command, ...args]] : [command, args]
  const child = spawn(file, argv, {env: childEnv(), ...options})
  running.add(child)
  child.once('exit', () => running.delete(child))
  return child
}

/** SIGTERM, then SIGKILL after `graceMs`; resolves once the child has exited. */
export function stopChild(child, graceMs = 5000) {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve()
  return new Promise((resolve) => {
    const kill = setTimeout(() => child.kill('SIGKILL'), graceMs)
    child.once('exit', () => {
      clearTimeout(kill)
      resolve()
    })
    child.kill('SIGTERM')
  })
}

/** Kills whatever is still running, at once (for the exit handler, which cannot wait). */
export function killAll() {
  for (const child of running) child.kill('SIGKILL')
}

/**
 * Starts a server and resolves once it is ready: when its output has matched `address` (by default
 * https://127.0.0.1:<port>/, the port in its first group) and `ready`. Its stdout and stderr are read to the end
 * (homeauth writes a line per request: a full pipe would stall it, and that write is part of its cost).
 */
export function startServer({
  command = process.execPath,
  args,
  ready,
  address = /https:\/\/127\.0\.0\.1:(\d+)\//,
  stdin,
  env = {},
}) {
  const started = performance.now()
  const child = spawnTracked(command, args, {core: pinning.serverCore, env: childEnv(env)})
  child.stdin.end(stdin ?? '')
  return new Promise((resolve, reject) => {
    let output = ''
    let port
    const onData = (chunk) => {
      if (port !== undefined) return
      output += chunk
      const match = address.exec(output)
      if (match && ready.test(output)) {
        port = Number(match[1])
        child.off('exit', onEarlyExit)
        resolve({
          child,
          pid: child.pid,
          port,
          startMs: performance.now() - started,
          stop: () => stopChild(child),
        })
      }
    }
    const onEarlyExit = (code, signal) =>
      reject(new Error(`${args.join(' ')} exited (${code ?? signal}) before listening:\n${output}`))
    child.stdout.on('data', onData)
    child.stderr.on('data', onData)
    child.once('exit', onEarlyExit)
  })
}

/**
 * Starts a node script as a worker (pinned to the load core) that answers each job sent over IPC
 * with one {result} or {error} message. `run(job)` resolves with the result.
 */
export function startWorker(script) {
  const child = spawnTracked(process.execPath, [script], {
    core: pinning.loadCore,
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  })
  return {
    run(job) {
      return new Promise((resolve, reject) => {
        const onExit = (code) => reject(new Error(`${script} exited (${code}) during a job`))
        child.once('exit', onExit)
        child.once('message', ({result, error}) => {
          child.off('exit', onExit)
          if (error) reject(new Error(error))
          else resolve(result)
        })
        child.send(job)
      })
    },
    close: () => stopChild(child),
  }
}

/** Answers each job received over IPC with `handle(job)`; for the worker scripts. */
export function serveJobs(handle) {
  process.on('message', async (job) => {
    try {
      process.send({result: await handle(job)})
    } catch (error) {
      process.send({error: error instanceof Error ? (error.stack ?? error.message) : String(error)})
    }
  })
  process.on('disconnect', () => process.exit(0))
}

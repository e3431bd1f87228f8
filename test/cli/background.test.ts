import {spawn, type ChildProcess} from 'node:child_process'
import {X509Certificate} from 'node:crypto'
import {existsSync, readFileSync, writeFileSync} from 'node:fs'
import net from 'node:net'
import path from 'node:path'

import {afterEach, describe, expect, it} from 'vitest'

import {ExitCode} from '../../src/errors.js'
import {isAlive, writeState} from '../../src/daemon/state.js'
import {runCli, useCli} from '../helpers/cli.js'
import {useTempDir} from '../helpers/temp.js'

const fingerprintOf = (file: string) => new X509Certificate(readFileSync(file)).fingerprint256

const tempDir = useTempDir()
const startCli = useCli()
const user = {username: 'JeffLynne', password: 'Turn to Stone'}
const started: {configDir: string}[] = []
const others: ChildProcess[] = []

afterEach(async () => {
  for (const {configDir} of started.splice(0))
    await runCli(['stop', '--config-dir', configDir, '--timeout', '2'])
  for (const child of others.splice(0)) child.kill('SIGKILL')
})

async function detach(configDir: string, port = 0) {
  started.push({configDir})
  return runCli(
    [
      'serve',
      '--detach',
      '--config-dir',
      configDir,
      '--host',
      '127.0.0.1',
      '--port',
      String(port),
      '-u',
      user.username,
      '--password-stdin',
    ],
    {
      input: `${user.password}\n`,
    },
  )
}

function status(configDir: string) {
  return runCli(['status', '--config-dir', configDir, '--json'])
}

/** state.json naming `pid` (with its real start time), as a server would write it. */
function writeStateFor(configDir: string, pid: number): Promise<void> {
  return writeState(configDir, {
    pid,
    url: 'https://127.0.0.1:1/',
    startedAt: new Date().toISOString(),
    logFile: null,
  })
}

function statePid(configDir: string): number {
  return JSON.parse(readFileSync(path.join(configDir, 'state.json'), 'utf8')).pid
}

/** A live process that is not a homeauth server (`sleep`), optionally with `serve` on its command line. */
async function otherProcess(script = 'setInterval(() => {}, 1000)', ...args: string[]): Promise<number> {
  const child = spawn(process.execPath, ['-e', script, ...args], {stdio: 'ignore'})
  others.push(child)
  await new Promise((resolve) => child.once('spawn', resolve))
  return child.pid!
}

describe('serve --detach, status, stop', () => {
  it('runs in the background until stopped: detach, status, fetch, stop, status', async () => {
    const configDir = tempDir()
    const detached = await detach(configDir)
    expect(detached.code).toBe(0)
    const [, pid] = detached.stdout.match(/in the background \(PID (\d+)\)/)!
    expect(detached.stdout).toContain(`log: ${path.join(configDir, 'serve.log')}`)

    const running = await status(configDir)
    expect(running.code).toBe(0)
    const json = JSON.parse(running.stdout)
    expect(json).toMatchObject({running: true, pid: Number(pid), logFile: path.join(configDir, 'serve.log')})
    expect(Object.keys(json).sort()).toEqual([
      'authListen',
      'caConstrained',
      'caFingerprint',
      'certificate',
      'logFile',
      'pid',
      'running',
      'startedAt',
      'supervisor',
      'trustProxy',
      'uptimeSeconds',
      'url',
    ])
    expect(json.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+\/$/)
    expect(Number.isNaN(Date.parse(json.startedAt))).toBe(false)
    expect(json.certificate.daysLeft).toBeGreaterThan(390)
    expect(json.certificate.serverFingerprint).toBe(fingerprintOf(path.join(configDir, 'server.pem')))
    expect(json.caFingerprint).toBe(fingerprintOf(path.join(configDir, 'ca.pem')))
    expect(json.caConstrained).toBe(true)

    const fetched = await runCli(['fetch-secret', '--config-dir', configDir, '-u', user.username], {
      env: {HOMEAUTH_PASSWORD: user.password},
    })
    expect(fetched.stdout).toBe('Hello from homeauth: only you can read this.\n')

    const stopped = await runCli(['stop', '--config-dir', configDir])
    expect(stopped.code).toBe(0)
    expect(stopped.stdout).toContain(`homeauth (PID ${pid}) stopped.`)
    expect(isAlive(Number(pid))).toBe(false)
    const after = await status(configDir)
    expect(after.code).toBe(ExitCode.notRunning)
    expect(JSON.parse(after.stdout)).toEqual({
      running: false,
      pid: null,
      url: null,
      startedAt: null,
      uptimeSeconds: null,
      logFile: null,
      supervisor: null,
      caFingerprint: null,
      caConstrained: null,
      certificate: null,
      authListen: null,
      trustProxy: null,
    })
    const log = readFileSync(path.join(configDir, 'serve.log'), 'utf8')
    expect(log).toContain('GET /api/secret 200')
    expect(log).toContain('Received SIGTERM: homeauth stopped.')
  })

  it('hands the password over without putting it on the background process’s command line', async () => {
    const configDir = tempDir()
    expect((await detach(configDir)).code).toBe(0)
    const cmdline = readFileSync(`/proc/${statePid(configDir)}/cmdline`, 'utf8')
    expect(cmdline).toContain('serve')
    expect(cmdline).not.toContain(user.password)
  })

  it('reports the port error and exits 9 when the background server cannot start', async () => {
    const blocker = net.createServer()
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve))
    const {port} = blocker.address() as net.AddressInfo
    try {
      const configDir = tempDir()
      const result = await detach(configDir, port)
      expect(result.code).toBe(ExitCode.portUnavailable)
      expect(result.stderr).toContain(
        `Cannot listen on port ${port} on 127.0.0.1: another program is already using it.`,
      )
      expect(result.stderr).toContain(
        '  Try: Stop the other program, or choose another port with --port (--port 0 picks a free one).',
      )
      expect(readFileSync(path.join(configDir, 'serve.log'), 'utf8')).toContain(
        `Error: Cannot listen on port ${port} on 127.0.0.1`,
      )
      expect(existsSync(path.join(configDir, 'state.json'))).toBe(false)
    } finally {
      blocker.close()
    }
  })

  it('refuses a second server on the same config directory', async () => {
    const configDir = tempDir()
    expect((await detach(configDir)).code).toBe(0)
    const second = await detach(configDir)
    expect(second.code).toBe(ExitCode.portUnavailable)
    expect(second.stderr).toContain(`homeauth is already running on ${configDir} (PID ${statePid(configDir)}`)
    expect((await status(configDir)).code).toBe(0)
  })

  it('says so and exits 0 when stop finds nothing running', async () => {
    const result = await runCli(['stop', '--config-dir', tempDir()])
    expect(result).toMatchObject({code: 0, stdout: 'homeauth is not running; nothing to stop.\n'})
  })

  it('treats a state file whose server has exited as not running, and removes it', async () => {
    const configDir = tempDir()
    // A process that looks like the server (serve on its command line) records state.json, then dies.
    const server = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)', 'serve'], {stdio: 'ignore'})
    others.push(server)
    await new Promise((resolve) => server.once('spawn', resolve))
    await writeStateFor(configDir, server.pid!)
    server.kill('SIGKILL')
    await new Promise((resolve) => server.once('exit', resolve))
    expect(isAlive(server.pid!)).toBe(false)
    const result = await runCli(['status', '--config-dir', configDir])
    expect(result.code).toBe(ExitCode.notRunning)
    expect(result.stdout).toBe('homeauth is not running.\n')
    expect(existsSync(path.join(configDir, 'state.json'))).toBe(false)
  })

  it('treats a state file whose PID runs another program as not running, removes it, and leaves the program alone', async () => {
    const configDir = tempDir()
    const stranger = await otherProcess()
    await writeStateFor(configDir, stranger)
    const result = await runCli(['status', '--config-dir', configDir])
    expect(result.code).toBe(ExitCode.notRunning)
    expect(existsSync(path.join(configDir, 'state.json'))).toBe(false)
    expect(isAlive(stranger)).toBe(true)
  })

  it('treats a state file whose PID was reused (another start time) as not running, and never signals it', async () => {
    const configDir = tempDir()
    // Running serve, but not the process that wrote state.json: that one started at another time.
    const reused = await otherProcess("process.on('SIGTERM', () => {}); setInterval(() => {}, 1000)", 'serve')
    await writeStateFor(configDir, reused)
    const file = path.join(configDir, 'state.json')
    const state = JSON.parse(readFileSync(file, 'utf8'))
    expect(state.processStart).toBeGreaterThan(0)
    writeFileSync(file, JSON.stringify({...state, processStart: state.processStart - 1}))
    const stopped = await runCli(['stop', '--config-dir', configDir, '--timeout', '1'])
    expect(stopped.stdout).toContain('nothing to stop')
    expect(isAlive(reused)).toBe(true)
    expect(existsSync(file)).toBe(false)
  })

  it('never signals a process that is not the server, even when state.json names its PID', async () => {
    const configDir = tempDir()
    const stranger = await otherProcess()
    await writeState(configDir, {
      pid: stranger,
      url: 'https://127.0.0.1:1/',
      startedAt: new Date().toISOString(),
      logFile: null,
    })
    const stopped = await runCli(['stop', '--config-dir', configDir])
    expect(stopped.stdout).toContain('nothing to stop')
    expect(isAlive(stranger)).toBe(true)
  })

  it('kills with a warning a server that ignores SIGTERM past --timeout', async () => {
    const configDir = tempDir()
    const stubborn = await otherProcess(
      "process.on('SIGTERM', () => {}); setInterval(() => {}, 1000)",
      'serve',
    )
    await writeState(configDir, {
      pid: stubborn,
      url: 'https://127.0.0.1:1/',
      startedAt: new Date().toISOString(),
      logFile: null,
    })
    const stopped = await runCli(['stop', '--config-dir', configDir, '--timeout', '1'])
    expect(stopped.code).toBe(0)
    expect(stopped.stderr).toContain(`PID ${stubborn} did not stop in time and was killed (SIGKILL).`)
    expect(isAlive(stubborn)).toBe(false)
  })
})

describe('homeauth logs', () => {
  it('shows the last lines, and follows new ones until Ctrl+C', {timeout: 60_000}, async () => {
    const configDir = tempDir()
    expect((await detach(configDir)).code).toBe(0)
    const lastTwo = await runCli(['logs', '--config-dir', configDir, '-n', '2'])
    expect(lastTwo.code).toBe(0)
    expect(lastTwo.stdout.trimEnd().split('\n')).toHaveLength(2)

    const follow = startCli(['logs', '--config-dir', configDir, '--follow', '-n', '0'])
    // It prints only what is appended after it started: request until a request shows up in its output.
    const followed = follow.waitFor(/GET \/api\/secret 200/, 30_000)
    let seen = false
    void followed.then(
      () => (seen = true),
      () => (seen = true),
    )
    while (!seen) {
      await runCli(['fetch-secret', '--config-dir', configDir, '-u', user.username], {
        env: {HOMEAUTH_PASSWORD: user.password},
      })
    }
    await followed
    follow.child.kill('SIGINT')
    expect((await follow.exited).code).toBe(0)
  })

  it('says there is no log yet when nothing was detached', async () => {
    const result = await runCli(['logs', '--config-dir', tempDir()])
    expect(result.code).toBe(0)
    expect(result.stderr).toContain('No log yet')
  })
})

import {spawn, spawnSync, type ChildProcess} from 'node:child_process'
import {existsSync, readFileSync, statSync, writeFileSync} from 'node:fs'
import path from 'node:path'

import {afterEach, describe, expect, it} from 'vitest'

import {
  clearState,
  findRunningServer,
  processStartTicks,
  signalReload,
  writeState,
  type ServerRecord,
} from '../../src/daemon/state.js'
import {useTempDir} from '../helpers/temp.js'

const tempDir = useTempDir()
const onLinux = process.platform === 'linux'

const stateOf = (pid: number) => ({
  pid,
  url: 'https://localhost:8443/',
  startedAt: new Date().toISOString(),
  logFile: null,
})

const lookalikes: ChildProcess[] = []
afterEach(() => {
  for (const child of lookalikes.splice(0)) child.kill('SIGKILL')
})

/** A live process whose command line has `serve` in it, as a homeauth server's has. */
async function serveLookalike(): Promise<number> {
  const child = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)', 'serve'], {stdio: 'ignore'})
  lookalikes.push(child)
  await new Promise((resolve) => child.once('spawn', resolve))
  return child.pid!
}
const statePath = (dir: string) => path.join(dir, 'state.json')

/** The PID of a process that has already exited (and been reaped). */
function deadPid(): number {
  const child = spawnSync(process.execPath, ['-e', '0'])
  expect(child.status).toBe(0)
  expect(child.pid).toBeGreaterThan(0)
  return child.pid
}

function editState(dir: string, change: (state: ServerRecord) => ServerRecord): void {
  const state = JSON.parse(readFileSync(statePath(dir), 'utf8')) as ServerRecord
  writeFileSync(statePath(dir), JSON.stringify(change(state)), {mode: 0o600})
}

describe('processStartTicks', () => {
  it.runIf(onLinux)('reads a running process start time in clock ticks since boot', () => {
    const ticks = processStartTicks(process.pid)
    expect(Number.isInteger(ticks)).toBe(true)
    expect(ticks).toBeGreaterThanOrEqual(0)
    expect(processStartTicks(process.pid)).toBe(ticks)
    expect(processStartTicks(process.ppid)).toBeLessThanOrEqual(ticks!)
  })

  it('returns null for a process that does not exist', () => {
    expect(processStartTicks(deadPid())).toBeNull()
  })
})

describe('writeState and findRunningServer', () => {
  it.runIf(onLinux)('never take a live process that is not running serve for the server', async () => {
    const dir = tempDir()
    await writeState(dir, stateOf(process.pid))
    expect(await findRunningServer(dir)).toBeUndefined()
    expect(existsSync(statePath(dir))).toBe(false)
  })

  it('find the state written for a running serve process', async () => {
    const dir = tempDir()
    const pid = await serveLookalike()
    const state = stateOf(pid)
    await writeState(dir, state)
    const found = await findRunningServer(dir)
    expect(found).toEqual({...state, processStart: processStartTicks(pid)})
    if (onLinux) expect(typeof found?.processStart).toBe('number')
    expect(existsSync(statePath(dir))).toBe(true)
  })

  it('write state.json with mode 0600', async () => {
    const dir = tempDir()
    await writeState(dir, stateOf(await serveLookalike()))
    expect(statSync(statePath(dir)).mode & 0o777).toBe(0o600)
  })

  it('find nothing when there is no state.json', async () => {
    expect(await findRunningServer(tempDir())).toBeUndefined()
  })

  it('treat the state of a process that has exited as stale, and remove it', async () => {
    const dir = tempDir()
    await writeState(dir, stateOf(deadPid()))
    expect(existsSync(statePath(dir))).toBe(true)
    expect(await findRunningServer(dir)).toBeUndefined()
    expect(existsSync(statePath(dir))).toBe(false)
  })

  it.runIf(onLinux)('treat a PID now used by another process (another start time) as stale', async () => {
    const dir = tempDir()
    await writeState(dir, stateOf(await serveLookalike()))
    editState(dir, (state) => ({...state, processStart: state.processStart! + 1}))
    expect(await findRunningServer(dir)).toBeUndefined()
    expect(existsSync(statePath(dir))).toBe(false)
  })

  it('ignore a state.json that does not describe a server', async () => {
    for (const text of ['', '{', 'null', '[]', '{"pid": -1, "url": "x"}', '{"pid": 1.5, "url": "x"}']) {
      const dir = tempDir()
      writeFileSync(statePath(dir), text, {mode: 0o600})
      expect(await findRunningServer(dir)).toBeUndefined()
    }
  })
})

describe('clearState', () => {
  it('removes state.json only when it describes the given process', async () => {
    const dir = tempDir()
    await writeState(dir, stateOf(process.pid))
    await clearState(dir, process.pid + 1)
    expect(existsSync(statePath(dir))).toBe(true)
    await clearState(dir, process.pid)
    expect(existsSync(statePath(dir))).toBe(false)
  })

  it('does nothing when there is no state.json', async () => {
    const dir = tempDir()
    await expect(clearState(dir, process.pid)).resolves.toBeUndefined()
    expect(existsSync(statePath(dir))).toBe(false)
  })
})

describe('signalReload', () => {
  // Never against process.pid: the SIGHUP would go to the test runner.
  it('returns undefined when no server is running', async () => {
    expect(await signalReload(tempDir())).toBeUndefined()
  })

  it('signals nothing for a stale state, and removes it', async () => {
    const dir = tempDir()
    await writeState(dir, stateOf(deadPid()))
    expect(await signalReload(dir)).toBeUndefined()
    expect(existsSync(statePath(dir))).toBe(false)
  })
})

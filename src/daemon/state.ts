import {existsSync, promises as fs, readFileSync} from 'node:fs'

import {privateFileMode, writeFileAtomic} from '../config/files.js'
import type {Supervisor} from './supervisor.js'
import {errorCode} from '../errors.js'
import {configPath} from '../paths.js'

/**
 * Which credentials a server checks: `stored` ones (the hash in config.json) are read again on
 * SIGHUP; `startup` ones (-u/-p, --password-stdin, the environment or a prompt) are kept until it stops.
 */
export type CredentialKind = 'stored' | 'startup'

/** What a running server records in state.json, so other commands can find and signal it. */
export interface ServerRecord {
  pid: number
  url: string
  /** The address it listens on ('::' for all interfaces); absent in a state file written before homeauth recorded it. */
  host?: string
  startedAt: string
  /** serve.log for a detached server; null for one in the foreground. */
  logFile: string | null
  /** Absent in a state file written before homeauth recorded it: then nobody can tell. */
  credentials?: CredentialKind
  /** The process's start time in clock ticks since boot (Linux), so a reused PID is not taken for ours. */
  processStart: number | null
  /** The service manager that started it (systemd), absent when a person or serve --detach did. */
  supervisor?: Supervisor
  /** Where --auth-listen serves /auth (`http://127.0.0.1:PORT/auth` or `unix:PATH`); absent without it. */
  authListen?: string
  /** The proxies whose X-Forwarded-For it believes (--trust-proxy); absent in a state file written before homeauth recorded them. */
  trustProxy?: string[]
  /** The control socket for `status --clients` and `unlock`; absent in a state file written before homeauth had one. */
  control?: string
}

/** Whether /proc says `pid` runs homeauth's serve command (true where there is no /proc to ask). */
function runsServe(pid: number): boolean {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').includes('serve')
  } catch (error) {
    return errorCode(error) !== 'ENOENT' || !existsSync('/proc/self')
  }
}

/** A process's start time from /proc/<pid>/stat (field 22), or null where there is no /proc. */
export function processStartTicks(pid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    // The command name (field 2) may contain spaces and parentheses: count fields after the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    return Number(fields[19])
  } catch {
    return null
  }
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (error) {
    return errorCode(error) === 'EPERM'
  }
}

export async function writeState(
  configDir: string,
  state: Omit<ServerRecord, 'processStart'>,
): Promise<void> {
  const full: ServerRecord = {...state, processStart: processStartTicks(state.pid)}
  await writeFileAtomic(configPath(configDir, 'state'), `${JSON.stringify(full, null, 2)}\n`, privateFileMode)
}

/** Removes state.json if it still describes process `pid` (a newer server may have replaced it). */
export async function clearState(configDir: string, pid: number): Promise<void> {
  const file = configPath(configDir, 'state')
  const state = await readStateFile(file)
  if (state?.pid === pid) await fs.rm(file, {force: true})
}

async function readStateFile(file: string): Promise<ServerRecord | undefined> {
  try {
    const state = JSON.parse(await fs.readFile(file, 'utf8')) as ServerRecord
    const valid = Number.isInteger(state.pid) && state.pid > 0 && new URL(state.url).protocol === 'https:'
    return valid ? state : undefined
  } catch {
    return undefined
  }
}

/**
 * The server running on this config directory, or undefined. A state file whose process is gone,
 * or whose PID now belongs to another process (a different start time), is stale and removed.
 */
export async function findRunningServer(configDir: string): Promise<ServerRecord | undefined> {
  const file = configPath(configDir, 'state')
  const state = await readStateFile(file)
  if (!state) return undefined
  // Never taken for ours: a process that is gone, that started at another time (a reused PID),
  // or that is not running `serve`.
  const sameProcess =
    isAlive(state.pid) &&
    (state.processStart === null || processStartTicks(state.pid) === state.processStart) &&
    runsServe(state.pid)
  if (sameProcess) return state
  await fs.rm(file, {force: true})
  return undefined
}

/** Asks the running server, if any, to reload its credentials and certificate (SIGHUP). */
export async function signalReload(configDir: string): Promise<ServerRecord | undefined> {
  const running = await findRunningServer(configDir)
  if (running) process.kill(running.pid, 'SIGHUP')
  return running
}

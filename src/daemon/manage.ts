import {promises as fs} from 'node:fs'
import type {X509Certificate} from 'node:crypto'

import {readFileSetSnapshot, statIfPresent} from '../config/files.js'
import {journalCommand, systemctlCommand, type Supervisor} from './supervisor.js'
import {ExitCode, HomeauthError, errorCode} from '../errors.js'
import {configFiles} from '../paths.js'
import {clearState, findRunningServer, isAlive} from './state.js'

export interface StatusReport {
  running: boolean
  /** Running and answering GET /healthz. */
  healthy: boolean
  pid: number | null
  url: string | null
  startedAt: string | null
  uptimeSeconds: number | null
  logFile: string | null
  /** The service manager it runs under (systemd), null when none. */
  supervisor: Supervisor | null
  /** The fingerprint of the CA in the config directory that issued the served certificate (what a phone compares). */
  caFingerprint: string | null
  /** Whether that CA has name constraints (may vouch only for the home's names and addresses); null when caFingerprint is. */
  caConstrained: boolean | null
  certificate: {notAfter: string; daysLeft: number; serverFingerprint: string} | null
  /** Where it serves /auth alone for a reverse proxy (--auth-listen), null without. */
  authListen: string | null
  /** The proxies whose X-Forwarded-For it believes (--trust-proxy); null when not running or not recorded. */
  trustProxy: string[] | null
}

/**
 * The stored CA's fingerprint, and whether it is constrained, when it issued `served`; nulls when
 * there is no readable CA or the server presents a certificate of its own (--cert/--key), so status
 * never names a CA it does not use.
 */
async function issuingAuthority(
  configDir: string,
  served: X509Certificate | undefined,
): Promise<Pick<StatusReport, 'caFingerprint' | 'caConstrained'>> {
  const none = {caFingerprint: null, caConstrained: null}
  if (!served) return none
  const [stored] = await readFileSetSnapshot(configDir, [configFiles.caCert]).catch(() => [])
  if (!stored) return none
  const [{parseCertificate}, {readNameConstraints}] = await Promise.all([
    import('../certificates/inspect.js'),
    import('../certificates/constraints.js'),
  ])
  try {
    const authority = parseCertificate(stored.text, configFiles.caCert)
    if (!served.checkIssued(authority) || !served.verify(authority.publicKey)) return none
    return {
      caFingerprint: authority.fingerprint256,
      caConstrained: readNameConstraints(stored.text) !== undefined,
    }
  } catch {
    return none
  }
}

/** Whether a server runs on this config directory, where, since when, and what certificate it serves. */
export async function serverStatus(configDir: string, now = new Date()): Promise<StatusReport> {
  const state = await findRunningServer(configDir)
  if (!state) {
    return {
      running: false,
      healthy: false,
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
    }
  }
  // The HTTPS client and the certificate readers load only when there is a server to ask.
  const [{probeHealth}, {summarize}] = await Promise.all([
    import('../web/health.js'),
    import('../certificates/inspect.js'),
  ])
  const health = await probeHealth(state.url)
  const summary = health.certificate && summarize(health.certificate, now)
  return {
    running: true,
    healthy: health.ok,
    pid: state.pid,
    url: state.url,
    startedAt: state.startedAt,
    uptimeSeconds: Math.max(0, Math.round((now.getTime() - Date.parse(state.startedAt)) / 1000)),
    logFile: state.logFile,
    supervisor: state.supervisor ?? null,
    ...(await issuingAuthority(configDir, health.certificate)),
    certificate: summary
      ? {
          notAfter: summary.notAfter.toISOString(),
          daysLeft: summary.daysLeft,
          serverFingerprint: summary.fingerprint,
        }
      : null,
    authListen: state.authListen ?? null,
    trustProxy: state.trustProxy ?? null,
  }
}

export interface StopResult {
  /** The PID that was stopped; undefined when nothing was running. */
  pid: number | undefined
  /** Whether it had to be killed after the graceful stop timed out. */
  killed: boolean
}

async function exited(pid: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    if (!isAlive(pid)) return true
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
  return !isAlive(pid)
}

/**
 * Stops the server on this config directory: SIGTERM, then SIGKILL if it has not exited within
 * `timeoutMs`. Only a process that state.json identifies as our server (same PID, same start
 * time, running serve) is ever signalled.
 */
export async function stopServer(configDir: string, timeoutMs: number): Promise<StopResult> {
  const state = await findRunningServer(configDir)
  if (!state) return {pid: undefined, killed: false}
  // systemd would restart a server stopped behind its back (or mark it failed): it must be told instead.
  if (state.supervisor) {
    throw new HomeauthError(
      `homeauth (PID ${state.pid}) runs under systemd; stopping it here would fight its restart policy.`,
      {
        exitCode: ExitCode.usage,
        suggestions: [`Run: ${systemctlCommand(state.supervisor, 'stop')}`],
      },
    )
  }
  process.kill(state.pid, 'SIGTERM')
  let killed = false
  if (!(await exited(state.pid, timeoutMs))) {
    process.kill(state.pid, 'SIGKILL')
    killed = true
    await exited(state.pid, 5000)
  }
  await clearState(configDir, state.pid)
  return {pid: state.pid, killed}
}

/** Where the running server logs when systemd runs it (the journal), else undefined. */
export async function journalOf(configDir: string): Promise<string | undefined> {
  const supervisor = (await findRunningServer(configDir))?.supervisor
  return supervisor && journalCommand(supervisor)
}

/** The last `count` lines of a log file; undefined when there is no log yet. */
export async function tailLines(file: string, count: number): Promise<string[] | undefined> {
  let text: string
  try {
    text = await fs.readFile(file, 'utf8')
  } catch (error) {
    if (['ENOENT', 'ENOTDIR'].includes(errorCode(error) ?? '')) return undefined
    throw error
  }
  const lines = text.split('\n')
  if (lines.at(-1) === '') lines.pop()
  return count === 0 ? [] : lines.slice(-count)
}

/**
 * Calls `onText` with what is appended to `file` from now on, until `signal` aborts; follows the
 * file across rotation (it shrinks or is replaced) by reading the new file from its start.
 */
export async function followFile(
  file: string,
  onText: (text: string) => void,
  signal: AbortSignal,
): Promise<void> {
  const start = await statIfPresent(file)
  let [position, inode] = [start?.size ?? 0, start?.ino ?? 0]
  while (!signal.aborted) {
    await new Promise((resolve) => setTimeout(resolve, 200))
    const stats = await statIfPresent(file)
    if (!stats) continue
    if (stats.ino !== inode || stats.size < position) [position, inode] = [0, stats.ino]
    if (stats.size === position) continue
    const handle = await fs.open(file, 'r')
    try {
      const buffer = Buffer.alloc(stats.size - position)
      await handle.read(buffer, 0, buffer.length, position)
      position = stats.size
      onText(buffer.toString('utf8'))
    } finally {
      await handle.close()
    }
  }
}

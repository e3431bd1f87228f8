import path from 'node:path'

import {ExitCode, HomeauthError, errorCode} from '../errors.js'

/** The lock directory inside the config directory, held by whoever is changing it. */
export const lockName = '.lock'

export interface LockTiming {
  /** A lock not refreshed for this long is taken to be left by a crashed writer and taken over. */
  staleMs: number
  /** How long to wait for another writer before giving up. */
  waitMs: number
}

// A live holder refreshes the lock's mtime every 2 s, so only a writer that died (or stalled for
// 10 s) loses it. The wait is longer than that, so a lock left by a crash is taken over, not reported.
export const defaultLockTiming: LockTiming = {staleMs: 10_000, waitMs: 20_000}
const refreshMs = 2_000

export interface ConfigLock {
  /** False once another process has taken the lock over: a writer must then not switch or delete anything. */
  held(): boolean
  release(): Promise<void>
}

/** The error for a writer whose lock was taken over before it switched to its new files. */
export function lockLostError(dir: string): HomeauthError {
  return new HomeauthError(
    `homeauth lost the lock on ${dir} to another homeauth command; nothing was changed.`,
    {
      exitCode: ExitCode.timedOut,
      suggestions: ['Run the command again.'],
    },
  )
}

function busyError(dir: string): HomeauthError {
  return new HomeauthError(`Another homeauth command is changing ${dir}; gave up waiting for it.`, {
    exitCode: ExitCode.timedOut,
    suggestions: [`Run the command again once it has finished (the lock is ${path.join(dir, lockName)}).`],
  })
}

/**
 * Takes the config directory's lock (proper-lockfile: an atomic mkdir of `<dir>/.lock`, kept fresh
 * while held and removed on exit), waiting up to `timing.waitMs` for another writer to finish.
 */
export async function lockConfigDir(dir: string, timing = defaultLockTiming): Promise<ConfigLock> {
  const {lock} = await import('proper-lockfile')
  let lost = false
  const options = {
    lockfilePath: path.join(dir, lockName),
    realpath: false,
    stale: timing.staleMs,
    update: refreshMs,
    // The default throws from a timer and kills the process; a running server must survive it.
    onCompromised: () => {
      lost = true
    },
  }
  const deadline = Date.now() + timing.waitMs
  for (;;) {
    try {
      const release = await lock(dir, options)
      return {
        held: () => !lost,
        async release() {
          try {
            await release()
          } catch (error) {
            // A lock another process took over is no longer ours to remove.
            if (!lost) throw error
          }
        },
      }
    } catch (error) {
      if (errorCode(error) !== 'ELOCKED') throw error
      if (Date.now() >= deadline) throw busyError(dir)
      await new Promise((resolve) => setTimeout(resolve, 20 + Math.random() * 60))
    }
  }
}

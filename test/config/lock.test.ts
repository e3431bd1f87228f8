import {spawn} from 'node:child_process'
import {existsSync, rmSync} from 'node:fs'
import path from 'node:path'
import {pathToFileURL} from 'node:url'

import {describe, expect, it} from 'vitest'

import {defaultLockTiming, lockConfigDir, lockName} from '../../src/config/lock.js'
import {ExitCode, HomeauthError} from '../../src/errors.js'
import {CliProcess, projectDir} from '../helpers/cli.js'
import {useTempDir} from '../helpers/temp.js'

const tempDir = useTempDir()

async function pollUntil(condition: () => boolean, what: string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
}

describe('the config directory lock', () => {
  it('lets a waiting writer in once the holder releases the lock', async () => {
    const dir = tempDir()
    const first = await lockConfigDir(dir)
    // Set as the release begins: the lock directory may be gone, and the waiter in, before release() resolves.
    let firstReleasing = false
    const order: string[] = []
    const second = lockConfigDir(dir).then((lock) => {
      order.push(firstReleasing ? 'second locked after the release began' : 'second locked while first held')
      return lock
    })
    // The waiter retries every 20–80 ms: a second is many tries, every one of which must fail.
    await new Promise((resolve) => setTimeout(resolve, 1_000))
    expect(order).toEqual([])
    firstReleasing = true
    await first.release()
    await (await second).release()
    expect(order).toEqual(['second locked after the release began'])
    expect(existsSync(path.join(dir, lockName))).toBe(false)
  })

  it('gives up with exit code 7, naming the directory, when another writer keeps the lock', async () => {
    const dir = tempDir()
    const holder = await lockConfigDir(dir)
    try {
      const error = await lockConfigDir(dir, {...defaultLockTiming, waitMs: 300}).catch(
        (caught: unknown) => caught,
      )
      expect(error).toBeInstanceOf(HomeauthError)
      expect((error as HomeauthError).exitCode).toBe(ExitCode.timedOut)
      expect((error as HomeauthError).message).toBe(
        `Another homeauth command is changing ${dir}; gave up waiting for it.`,
      )
    } finally {
      await holder.release()
    }
  })

  it('takes over a lock left behind by a writer that was killed', async () => {
    const dir = tempDir()
    const lockModule = pathToFileURL(path.join(projectDir, 'dist', 'config', 'lock.js')).href
    const killed = new CliProcess(
      spawn(
        process.execPath,
        [
          '--input-type=module',
          '-e',
          `const {lockConfigDir} = await import(${JSON.stringify(lockModule)})
           await lockConfigDir(${JSON.stringify(dir)})
           console.log('locked')
           setInterval(() => {}, 1000)`,
        ],
        {stdio: 'pipe'},
      ),
    )
    await killed.waitFor(/locked/)
    killed.child.kill('SIGKILL')
    await killed.exited
    expect(existsSync(path.join(dir, lockName))).toBe(true)

    const takenOver = await lockConfigDir(dir)
    expect(takenOver.held()).toBe(true)
    await takenOver.release()
    expect(existsSync(path.join(dir, lockName))).toBe(false)
  })

  it('reports the lock as no longer held once it is taken away from a live holder', async () => {
    const dir = tempDir()
    const lock = await lockConfigDir(dir)
    expect(lock.held()).toBe(true)
    rmSync(path.join(dir, lockName), {recursive: true})
    await pollUntil(() => !lock.held(), 'the holder notices')
    await lock.release()
  })
})

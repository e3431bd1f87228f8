import {X509Certificate, createPrivateKey} from 'node:crypto'
import {
  chmodSync,
  existsSync,
  mkdirSync,
  readFileSync,
  readdirSync,
  readlinkSync,
  rmSync,
  statSync,
  utimesSync,
  writeFileSync,
} from 'node:fs'
import path from 'node:path'

import {describe, expect, it} from 'vitest'

import {
  ensureConfigDir,
  readFileSetSnapshot,
  statIfPresent,
  withConfigLock,
  writeFileAtomic,
  type SetFile,
} from '../../src/config/files.js'
import {lockLostError, lockName} from '../../src/config/lock.js'
import {ExitCode, HomeauthError} from '../../src/errors.js'
import {useTempDir} from '../helpers/temp.js'
import {runWriter, writePairsFile} from '../helpers/writers.js'

const tempDir = useTempDir()

const updateFileSet = (dir: string, changes: SetFile[]) =>
  withConfigLock(dir, (locked) => locked.updateFileSet(changes))

describe('withConfigLock and updateFileSet', () => {
  it('replaces every file of the set together', async () => {
    const dir = tempDir()
    await updateFileSet(dir, [
      {name: 'a.pem', data: 'a1', mode: 0o644},
      {name: 'b.pem', data: 'b1', mode: 0o600},
    ])
    await updateFileSet(dir, [
      {name: 'a.pem', data: 'a2', mode: 0o644},
      {name: 'b.pem', data: 'b2', mode: 0o600},
    ])
    expect(readFileSync(path.join(dir, 'a.pem'), 'utf8')).toBe('a2')
    expect(readFileSync(path.join(dir, 'b.pem'), 'utf8')).toBe('b2')
    expect(statSync(path.join(dir, 'b.pem')).mode & 0o777).toBe(0o600)
    expect(readdirSync(dir).filter((entry) => entry.startsWith('.data-'))).toHaveLength(1)
  })

  it('carries the files it is not given over to the new generation unchanged', async () => {
    const dir = tempDir()
    await updateFileSet(dir, [
      {name: 'config.json', data: '{}', mode: 0o600},
      {name: 'a.pem', data: 'a1', mode: 0o644},
    ])
    await updateFileSet(dir, [{name: 'a.pem', data: 'a2', mode: 0o644}])
    expect(readFileSync(path.join(dir, 'config.json'), 'utf8')).toBe('{}')
    expect(statSync(path.join(dir, 'config.json')).mode & 0o777).toBe(0o600)
    expect(readFileSync(path.join(dir, 'a.pem'), 'utf8')).toBe('a2')
  })

  it('leaves the old set byte-identical when writing the new one fails midway', async () => {
    const dir = tempDir()
    await updateFileSet(dir, [
      {name: 'a.pem', data: 'a1', mode: 0o644},
      {name: 'b.pem', data: 'b1', mode: 0o600},
    ])
    const entriesBefore = readdirSync(dir).sort()
    const failing = updateFileSet(dir, [
      {name: 'a.pem', data: 'a2', mode: 0o644},
      {name: 'missing-dir/b.pem', data: 'b2', mode: 0o600},
    ])
    await expect(failing).rejects.toThrow(/ENOENT/)
    expect(readFileSync(path.join(dir, 'a.pem'), 'utf8')).toBe('a1')
    expect(readFileSync(path.join(dir, 'b.pem'), 'utf8')).toBe('b1')
    expect(readdirSync(dir).sort()).toEqual(entriesBefore)
  })

  it('refuses to switch to its new files once another writer has taken its lock over', async () => {
    const dir = tempDir()
    await updateFileSet(dir, [{name: 'a.pem', data: 'a1', mode: 0o644}])
    const entriesBefore = readdirSync(dir).sort()
    const lockDir = path.join(dir, lockName)
    const error = await withConfigLock(dir, async (locked) => {
      // Another writer that found the lock stale: it removes the lock and makes its own.
      rmSync(lockDir, {recursive: true})
      mkdirSync(lockDir)
      const past = new Date(Date.now() - 60_000)
      utimesSync(lockDir, past, past)
      // The holder notices at its next refresh of the lock (every 2 s).
      await new Promise((resolve) => setTimeout(resolve, 3_000))
      return locked.updateFileSet([{name: 'a.pem', data: 'a2', mode: 0o644}])
    }).catch((caught: unknown) => caught)
    expect(error).toBeInstanceOf(HomeauthError)
    expect((error as HomeauthError).exitCode).toBe(ExitCode.timedOut)
    expect((error as HomeauthError).message).toBe(lockLostError(dir).message)
    expect(readFileSync(path.join(dir, 'a.pem'), 'utf8')).toBe('a1')
    expect(readdirSync(dir).sort()).toEqual([...entriesBefore, lockName].sort())
    expect(statSync(lockDir).mtimeMs).toBeLessThan(Date.now() - 50_000)
  })

  it('says the config directory does not exist rather than waiting for it', async () => {
    const dir = path.join(tempDir(), 'missing')
    const error = await withConfigLock(dir, async () => undefined).catch((caught: unknown) => caught)
    expect(error).toBeInstanceOf(HomeauthError)
    expect((error as HomeauthError).exitCode).toBe(ExitCode.invalidSetup)
    expect((error as HomeauthError).message).toBe(`The config directory ${dir} does not exist.`)
  })
})

describe('readFileSetSnapshot', () => {
  it('reads the files of the current generation with their modes, and a missing one as undefined', async () => {
    const dir = tempDir()
    const pair = [
      {name: 'server.pem', data: 'certificate', mode: 0o644},
      {name: 'server-key.pem', data: 'key', mode: 0o600},
    ]
    await updateFileSet(dir, pair)
    expect(await readFileSetSnapshot(dir, ['server.pem', 'server-key.pem', 'ca.pem'])).toEqual([
      ...pair.map(({data, mode}) => ({text: data, mode})),
      undefined,
    ])
  })

  it('reads plain files where there is no generation link (an older layout) or where one replaced its link', async () => {
    const dir = tempDir()
    writeFileSync(path.join(dir, 'a.pem'), 'plain a', {mode: 0o600})
    expect(await readFileSetSnapshot(dir, ['a.pem'])).toEqual([{text: 'plain a', mode: 0o600}])
    await updateFileSet(dir, [{name: 'b.pem', data: 'b1', mode: 0o600}])
    expect(await readFileSetSnapshot(dir, ['a.pem', 'b.pem'])).toEqual([
      {text: 'plain a', mode: 0o600},
      {text: 'b1', mode: 0o600},
    ])
  })
})

describe('writeFileAtomic', () => {
  it('writes the file with its mode and leaves no temporary file behind', async () => {
    const dir = tempDir()
    const file = path.join(dir, 'config.json')
    await writeFileAtomic(file, '{"version":1}', 0o600)
    await writeFileAtomic(file, '{"version":2}', 0o600)
    expect(readFileSync(file, 'utf8')).toBe('{"version":2}')
    expect(statSync(file).mode & 0o777).toBe(0o600)
    expect(readdirSync(dir)).toEqual(['config.json'])
  })
})

describe('ensureConfigDir', () => {
  it('creates missing directories with mode 0700', async () => {
    const dir = path.join(tempDir(), 'a', 'homeauth')
    await ensureConfigDir(dir)
    expect(statSync(dir).mode & 0o777).toBe(0o700)
  })

  it('refuses a directory that others can write to, naming the chmod, and leaves its mode alone', async () => {
    const dir = path.join(tempDir(), 'shared')
    mkdirSync(dir)
    chmodSync(dir, 0o777)
    const error = await ensureConfigDir(dir).catch((caught: unknown) => caught)
    expect(error).toBeInstanceOf(HomeauthError)
    expect((error as HomeauthError).exitCode).toBe(ExitCode.invalidSetup)
    expect((error as HomeauthError).suggestions).toEqual([`Run: chmod 700 ${dir}`])
    expect(statSync(dir).mode & 0o777).toBe(0o777)
  })
})

describe('two processes writing the config directory at once', () => {
  it('lose no update, and every file reads back with the key matching its certificate', async () => {
    const dir = tempDir()
    const pairsFile = path.join(tempDir(), 'pairs.json')
    await writePairsFile(pairsFile)
    await updateFileSet(dir, [{name: 'counts.json', data: '{"a":0,"b":0}', mode: 0o600}])

    const rounds = 40
    const writers = ['a', 'b'].map((who) => runWriter({dir, who, rounds, pairsFile}))
    expect(await Promise.all(writers)).toEqual([
      {code: 0, stderr: ''},
      {code: 0, stderr: ''},
    ])

    expect(JSON.parse(readFileSync(path.join(dir, 'counts.json'), 'utf8'))).toEqual({a: rounds, b: rounds})
    const certificate = new X509Certificate(readFileSync(path.join(dir, 'server.pem')))
    const key = createPrivateKey(readFileSync(path.join(dir, 'server-key.pem')))
    expect(certificate.checkPrivateKey(key)).toBe(true)
    const generations = readdirSync(dir).filter((entry) => entry.startsWith('.data-'))
    expect(generations).toEqual([readlinkSync(path.join(dir, '.data'))])
    expect(existsSync(path.join(dir, '.lock'))).toBe(false)
  })
})

describe('statIfPresent', () => {
  it('gives a file’s stats, and undefined where there is no file to stat', async () => {
    const dir = tempDir()
    const file = path.join(dir, 'serve.log')
    writeFileSync(file, 'twelve bytes')
    expect((await statIfPresent(file))?.size).toBe(12)
    expect(await statIfPresent(path.join(dir, 'missing.log'))).toBeUndefined()
    expect(await statIfPresent(path.join(file, 'below-a-file'))).toBeUndefined()
  })
})

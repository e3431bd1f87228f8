import {chmodSync, mkdirSync, readFileSync, readdirSync, statSync} from 'node:fs'
import path from 'node:path'

import {describe, expect, it} from 'vitest'

import {ensureConfigDir, updateFileSet, writeFileAtomic} from '../../src/config/files.js'
import {ExitCode, HomeauthError} from '../../src/errors.js'
import {useTempDir} from '../helpers/temp.js'

const tempDir = useTempDir()

describe('updateFileSet', () => {
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

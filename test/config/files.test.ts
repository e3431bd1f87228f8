import {spawn} from 'node:child_process'
import {X509Certificate, createPrivateKey} from 'node:crypto'
import {
  chmodSync,
  existsSync,
  mkdirSync,
  readFileSync,
  readdirSync,
  readlinkSync,
  statSync,
  writeFileSync,
} from 'node:fs'
import path from 'node:path'
import {pathToFileURL} from 'node:url'

import {describe, expect, it} from 'vitest'

import {createAuthority, issueServerCertificate} from '../../src/certificates/authority.js'
import {ensureConfigDir, withConfigLock, writeFileAtomic, type SetFile} from '../../src/config/files.js'
import {ExitCode, HomeauthError} from '../../src/errors.js'
import {projectDir} from '../helpers/cli.js'
import {useTempDir} from '../helpers/temp.js'

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

  it('says the config directory does not exist rather than waiting for it', async () => {
    const dir = path.join(tempDir(), 'missing')
    const error = await withConfigLock(dir, async () => undefined).catch((caught: unknown) => caught)
    expect(error).toBeInstanceOf(HomeauthError)
    expect((error as HomeauthError).exitCode).toBe(ExitCode.invalidSetup)
    expect((error as HomeauthError).message).toBe(`The config directory ${dir} does not exist.`)
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

/** A writer in its own process: `rounds` times, under the lock, counts one more for `who` and stores one of `pairs`. */
const writerScript = `
const [filesModule, dir, who, rounds, pairsFile] = process.argv.slice(1)
const {readFile} = await import('node:fs/promises')
const {withConfigLock} = await import(filesModule)
const pairs = JSON.parse(await readFile(pairsFile, 'utf8'))
for (let round = 0; round < Number(rounds); round++) {
  const pair = pairs[round % pairs.length]
  await withConfigLock(dir, async ({updateFileSet}) => {
    const counts = JSON.parse(await readFile(dir + '/counts.json', 'utf8'))
    counts[who] += 1
    await updateFileSet([
      {name: 'counts.json', data: JSON.stringify(counts), mode: 0o600},
      {name: 'server.pem', data: pair.cert, mode: 0o644},
      {name: 'server-key.pem', data: pair.key, mode: 0o600},
    ])
  })
}
`

describe('two processes writing the config directory at once', () => {
  it('lose no update, and every file reads back with the key matching its certificate', async () => {
    const dir = tempDir()
    const authority = await createAuthority('test')
    const pairs = await Promise.all(
      ['a.home.arpa', 'b.home.arpa', 'c.home.arpa'].map((host) => issueServerCertificate(authority, [host])),
    )
    const pairsFile = path.join(tempDir(), 'pairs.json')
    writeFileSync(pairsFile, JSON.stringify(pairs))
    await updateFileSet(dir, [{name: 'counts.json', data: '{"a":0,"b":0}', mode: 0o600}])

    const rounds = 40
    const filesModule = pathToFileURL(path.join(projectDir, 'dist', 'config', 'files.js')).href
    const writers = ['a', 'b'].map((who) => {
      const child = spawn(
        process.execPath,
        ['--input-type=module', '-e', writerScript, filesModule, dir, who, String(rounds), pairsFile],
        {stdio: ['ignore', 'inherit', 'pipe']},
      )
      let stderr = ''
      child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk))
      return new Promise<{code: number | null; stderr: string}>((resolve) =>
        child.on('close', (code) => resolve({code, stderr})),
      )
    })
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

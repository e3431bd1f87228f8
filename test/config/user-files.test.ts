import {execFileSync} from 'node:child_process'
import {mkdirSync, writeFileSync} from 'node:fs'
import path from 'node:path'

import {describe, expect, it} from 'vitest'

import {readUserFile} from '../../src/config/user-files.js'
import {ExitCode} from '../../src/errors.js'
import {homeauthRejection} from '../helpers/errors.js'
import {useTempDir} from '../helpers/temp.js'

const tempDir = useTempDir()

const refusal = (reading: Promise<string>) => homeauthRejection(reading, ExitCode.invalidSetup)

describe('readUserFile', () => {
  const key = {what: 'key', flag: '--key', secret: true}

  it('reads a private file', async () => {
    const file = path.join(tempDir(), 'key.pem')
    writeFileSync(file, 'PEM', {mode: 0o600})
    expect(await readUserFile({file, ...key})).toBe('PEM')
  })

  it('names a missing file and the flag that named it', async () => {
    const file = path.join(tempDir(), 'missing.pem')
    const error = await refusal(readUserFile({file, ...key}))
    expect(error.message).toBe(`The key file ${file} does not exist.`)
    expect(error.suggestions).toEqual(['Check the path given to --key.'])
  })

  it('refuses a secret others can read with the chmod that fixes it, but not a public file', async () => {
    const file = path.join(tempDir(), 'key.pem')
    writeFileSync(file, 'PEM', {mode: 0o640})
    const error = await refusal(readUserFile({file, ...key}))
    expect(error.message).toBe(
      `The key file ${file} can be read by other users (mode 0640); homeauth refuses to use it.`,
    )
    expect(error.suggestions).toEqual([`Run: chmod 600 ${file}`])
    expect(await readUserFile({file, what: 'certificate', flag: '--cert'})).toBe('PEM')
  })

  it('refuses a directory and a FIFO as not regular files, without waiting for a writer', async () => {
    const dir = path.join(tempDir(), 'dir')
    mkdirSync(dir)
    const fifo = path.join(tempDir(), 'fifo')
    execFileSync('mkfifo', ['-m', '600', fifo])
    for (const file of [dir, fifo]) {
      const error = await refusal(readUserFile({file, ...key}))
      expect(error.message).toBe(`The key file ${file} is not a regular file.`)
    }
  })

  it('refuses a file larger than maxBytes', async () => {
    const file = path.join(tempDir(), 'message.txt')
    writeFileSync(file, 'x'.repeat(2049), {mode: 0o600})
    const error = await refusal(
      readUserFile({file, what: 'secret', flag: '--secret-file', secret: true, maxBytes: 2048}),
    )
    expect(error.message).toBe(`The secret file ${file} is larger than 2 KiB.`)
  })
})

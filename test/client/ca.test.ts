import {execFileSync} from 'node:child_process'
import {mkdirSync, writeFileSync} from 'node:fs'
import path from 'node:path'

import {describe, expect, it} from 'vitest'

import {createAuthority} from '../../src/certificates/authority.js'
import {homeConstraints} from '../../src/certificates/constraints.js'
import {readCa} from '../../src/client/ca.js'
import {ExitCode} from '../../src/errors.js'
import {homeauthCommand} from '../../src/invocation.js'
import {homeauthRejection} from '../helpers/errors.js'
import {useTempDir} from '../helpers/temp.js'

const tempDir = useTempDir()

const refusal = (reading: Promise<string>) => homeauthRejection(reading, ExitCode.invalidSetup)

describe('readCa', () => {
  it('reads a PEM certificate', async () => {
    const file = path.join(tempDir(), 'ca.pem')
    const {cert} = await createAuthority('test', homeConstraints([]))
    writeFileSync(file, cert)
    expect(await readCa(file, true)).toBe(cert)
  })

  it('names a missing --ca file and the flag, or for the config directory’s ca.pem, how to get one', async () => {
    const file = path.join(tempDir(), 'ca.pem')
    const given = await refusal(readCa(file, true))
    expect(given.message).toBe(`The CA file ${file} does not exist.`)
    expect(given.suggestions).toEqual(['Check the path given to --ca.'])
    const stored = await refusal(readCa(file, false))
    expect(stored.suggestions).toEqual([
      `Pass the server’s ca.pem with --ca, or run ${homeauthCommand('init')} on this machine.`,
    ])
  })

  it('refuses a directory and a FIFO as not regular files, without waiting for a writer', async () => {
    const dir = path.join(tempDir(), 'dir')
    mkdirSync(dir)
    const fifo = path.join(tempDir(), 'fifo')
    execFileSync('mkfifo', [fifo])
    for (const file of [dir, fifo]) {
      const error = await refusal(readCa(file, true))
      expect(error.message).toBe(`The CA file ${file} is not a regular file.`)
    }
  })

  it('refuses a file that does not hold a PEM certificate', async () => {
    const file = path.join(tempDir(), 'notes.txt')
    writeFileSync(file, 'hello')
    const error = await refusal(readCa(file, true))
    expect(error.message).toBe(`The CA file ${file} does not hold a PEM certificate.`)
    expect(error.suggestions).toEqual(['Pass the server’s ca.pem with --ca.'])
  })
})

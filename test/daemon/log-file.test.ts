import {readFileSync, statSync} from 'node:fs'
import path from 'node:path'

import {describe, expect, it} from 'vitest'

import {RotatingLog} from '../../src/daemon/log-file.js'
import {useTempDir} from '../helpers/temp.js'

const tempDir = useTempDir()

describe('RotatingLog', () => {
  it('appends lines to a 0600 file and rotates it to .1 beyond the size cap', () => {
    const file = path.join(tempDir(), 'serve.log')
    const log = new RotatingLog(file, 100)
    for (let line = 0; line < 12; line++) log.write(`line ${line} ${'x'.repeat(10)}`)
    expect(statSync(file).mode & 0o777).toBe(0o600)
    expect(statSync(file).size).toBeLessThanOrEqual(100)
    expect(statSync(`${file}.1`).size).toBeLessThanOrEqual(100)
    const current = readFileSync(file, 'utf8')
    expect(current.endsWith('line 11 xxxxxxxxxx\n')).toBe(true)
    expect(current).toContain('line 10')
    expect(readFileSync(`${file}.1`, 'utf8')).toContain('line 9')
  })

  it('continues an existing log, counting what it already holds', () => {
    const file = path.join(tempDir(), 'serve.log')
    new RotatingLog(file, 1000).write('first')
    new RotatingLog(file, 1000).write('second')
    expect(readFileSync(file, 'utf8')).toBe('first\nsecond\n')
  })
})

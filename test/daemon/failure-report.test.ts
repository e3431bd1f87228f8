import {spawn} from 'node:child_process'
import path from 'node:path'
import type {Readable} from 'node:stream'

import {describe, expect, it} from 'vitest'

import {failureFdVariable, parseStartFailure, reportStartFailure} from '../../src/daemon/failure-report.js'

const failure = {
  exitCode: 9,
  message: 'Port 8443 on all interfaces is already in use.\nSecond line.',
  suggestions: ['Stop the other server, or pass another --port.'],
}

/** Runs a child that reports `failure` with `env`, and collects what arrives on its descriptor 3. */
function reportFromChild(env: NodeJS.ProcessEnv): Promise<{code: number | null; report: string}> {
  const script = `
    import {reportStartFailure} from ${JSON.stringify(path.resolve('dist/daemon/failure-report.js'))}
    reportStartFailure(process.env, ${JSON.stringify(failure)})`
  const child = spawn(process.execPath, ['--input-type=module', '-e', script], {
    stdio: ['ignore', 'ignore', 'inherit', 'pipe'],
    env,
  })
  let report = ''
  ;(child.stdio[3] as Readable).setEncoding('utf8').on('data', (text: string) => (report += text))
  return new Promise((resolve) => child.once('close', (code) => resolve({code, report})))
}

describe('the start failure a background server reports', () => {
  it('reaches the parent on the descriptor named in the environment, as it was', async () => {
    const {code, report} = await reportFromChild({...process.env, [failureFdVariable]: '3'})
    expect(code).toBe(0)
    expect(report.endsWith('\n')).toBe(true)
    expect(parseStartFailure(report)).toEqual(failure)
  })

  it('is not written where no descriptor is named', async () => {
    const {[failureFdVariable]: _unset, ...env} = process.env
    expect(await reportFromChild(env)).toEqual({code: 0, report: ''})
  })

  it('is dropped without an error when its descriptor cannot be written', () => {
    expect(() => reportStartFailure({[failureFdVariable]: '987'}, failure)).not.toThrow()
  })

  it('is only taken for a failure when it has a code, a message and suggestions', () => {
    expect(parseStartFailure('')).toBeUndefined()
    expect(parseStartFailure('Error: not JSON\n')).toBeUndefined()
    expect(parseStartFailure('{"exitCode": "9", "message": "m", "suggestions": []}\n')).toBeUndefined()
    expect(parseStartFailure('{"exitCode": 9, "message": "m", "suggestions": [1]}\n')).toBeUndefined()
    expect(parseStartFailure('{"exitCode": 9, "message": "m", "suggestions": []}\n')).toEqual({
      exitCode: 9,
      message: 'm',
      suggestions: [],
    })
  })
})

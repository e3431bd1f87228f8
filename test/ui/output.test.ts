import {readFileSync} from 'node:fs'
import path from 'node:path'
import {Writable} from 'node:stream'

import {describe, expect, it} from 'vitest'

import {RotatingLog} from '../../src/daemon/log-file.js'
import {printFailure, printWarning} from '../../src/ui/messages.js'
import {createLogFileOutput, createTerminalOutput} from '../../src/ui/output.js'
import {useTempDir} from '../helpers/temp.js'

/** A stream that keeps what is written to it, standing for a terminal when `isTTY`. */
class CapturedStream extends Writable {
  text = ''

  constructor(readonly isTTY: boolean) {
    super()
  }

  override _write(chunk: Buffer, _encoding: string, done: () => void): void {
    this.text += chunk.toString()
    done()
  }
}

describe('createTerminalOutput', () => {
  it('colours each stream only when that stream is a terminal', () => {
    const toTerminal = createTerminalOutput(new CapturedStream(true), new CapturedStream(false), {})
    expect([toTerminal.out.color.level, toTerminal.err.color.level]).toEqual([1, 0])
    const fromTerminal = createTerminalOutput(new CapturedStream(false), new CapturedStream(true), {})
    expect([fromTerminal.out.color.level, fromTerminal.err.color.level]).toEqual([0, 1])
  })

  it('tells each stream apart as a terminal or not, whatever NO_COLOR says', () => {
    const output = createTerminalOutput(new CapturedStream(true), new CapturedStream(false), {NO_COLOR: ''})
    expect([output.out.isTerminal, output.err.isTerminal]).toEqual([true, false])
  })

  it('writes no colour when NO_COLOR is set, to a terminal too', () => {
    const output = createTerminalOutput(new CapturedStream(true), new CapturedStream(true), {NO_COLOR: ''})
    expect([output.out.color.level, output.err.color.level]).toEqual([0, 0])
  })

  it('writes data to its stdout and failures to its stderr, apart from any other output', () => {
    const [stdout, stderr, otherStderr] = [false, false, false].map((isTTY) => new CapturedStream(isTTY))
    const output = createTerminalOutput(stdout!, stderr!, {})
    createTerminalOutput(new CapturedStream(false), otherStderr!, {})
    output.out.line('The answer is 42.')
    output.out.write('no line break')
    printFailure(output, 'No answer.', ['Wait.', 'Ask again.'])
    expect(stdout!.text).toBe('The answer is 42.\nno line break')
    expect(stderr!.text).toBe('Error: No answer.\n  Try: Wait.\n  Try: Ask again.\n')
    expect(otherStderr!.text).toBe('')
  })
})

describe('createLogFileOutput', () => {
  const tempDir = useTempDir()

  it('sends data and diagnostics alike to the log file, one line each and without colour', () => {
    const file = path.join(tempDir(), 'serve.log')
    const output = createLogFileOutput(new RotatingLog(file))
    output.out.line(output.out.color.green('homeauth is serving'))
    printWarning(output, 'reload failed')
    printFailure(output, 'Port 8443 is in use.', ['Pass another --port.'])
    expect(readFileSync(file, 'utf8')).toBe(
      'homeauth is serving\nWarning: reload failed\nError: Port 8443 is in use.\n  Try: Pass another --port.\n',
    )
  })

  it('is never a terminal, so nothing meant for one (a QR code) goes to the log', () => {
    const output = createLogFileOutput(new RotatingLog(path.join(tempDir(), 'serve.log')))
    expect([output.out.isTerminal, output.err.isTerminal]).toEqual([false, false])
  })
})

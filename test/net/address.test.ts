import {describe, expect, it} from 'vitest'

import {ExitCode, HomeauthError} from '../../src/errors.js'
import {bracketHost, listenError, splitHostPort, unbracketHost} from '../../src/net/address.js'

describe('listen addresses', () => {
  it('puts an IPv6 address in brackets before a port, and takes them off for a socket', () => {
    expect(bracketHost('::1')).toBe('[::1]')
    expect(bracketHost('192.168.1.20')).toBe('192.168.1.20')
    expect(bracketHost('pi.local')).toBe('pi.local')
    expect(unbracketHost('[fd00::2]')).toBe('fd00::2')
    expect(unbracketHost('localhost')).toBe('localhost')
  })

  it('splits HOST:PORT at the last colon, the host as written, and refuses a missing or too large port', () => {
    expect(splitHostPort('127.0.0.1:9091')).toEqual({host: '127.0.0.1', port: 9091})
    expect(splitHostPort('[::1]:0')).toEqual({host: '[::1]', port: 0})
    for (const value of ['9091', '127.0.0.1', '127.0.0.1:', '127.0.0.1:65536', '127.0.0.1:x']) {
      expect(splitHostPort(value), value).toBeUndefined()
    }
  })
})

describe('listenError', () => {
  const advice = {where: 'port 8443 on [::1]', inUse: 'in use', denied: 'denied', notHere: 'not here'}
  const failure = (code: string) => Object.assign(new Error(code), {code})

  it('says why a bind failed in one sentence, with the exit code of the table', () => {
    const cases = [
      ['EADDRINUSE', 'another program is already using it.', ExitCode.portUnavailable, 'in use'],
      ['EACCES', 'this user is not permitted to bind it.', ExitCode.portUnavailable, 'denied'],
      ['EADDRNOTAVAIL', 'that address is not on this machine.', ExitCode.usage, 'not here'],
      ['ENOTFOUND', 'that address is not on this machine.', ExitCode.usage, 'not here'],
    ] as const
    for (const [code, reason, exitCode, suggestion] of cases) {
      const error = listenError(failure(code), advice)
      expect(error, code).toBeInstanceOf(HomeauthError)
      expect(error).toMatchObject({
        message: `Cannot listen on port 8443 on [::1]: ${reason}`,
        exitCode,
        suggestions: [suggestion],
      })
    }
  })

  it('keeps any other error as it is', () => {
    const other = failure('EMFILE')
    expect(listenError(other, advice)).toBe(other)
  })
})

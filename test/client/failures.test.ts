import {describe, expect, it} from 'vitest'

import {secretFromAnswer, transportFailure} from '../../src/client/failures.js'
import {DeadlinePassed, type Answer} from '../../src/client/request.js'
import {ExitCode, HomeauthError} from '../../src/errors.js'

const url = new URL('https://pi.local:8443/api/secret')
const context = {url, username: 'JeffLynne'}

function answer(status: number, body = '', headers: Answer['headers'] = {}, statusMessage = ''): Answer {
  return {status, statusMessage, headers, body}
}

function thrown(run: () => unknown): HomeauthError {
  try {
    run()
  } catch (error) {
    if (error instanceof HomeauthError) return error
    throw error
  }
  throw new Error('nothing was thrown')
}

describe('secretFromAnswer', () => {
  it('returns the message of a 200 {"message": ...} answer', () => {
    expect(secretFromAnswer(answer(200, '{"message":"Do Ya"}'), context)).toBe('Do Ya')
  })

  it('classifies 401 as rejected credentials, naming the user', () => {
    const error = thrown(() => secretFromAnswer(answer(401), context))
    expect(error.exitCode).toBe(ExitCode.credentialsRejected)
    expect(error.message).toBe('The server rejected the credentials for JeffLynne.')
  })

  it('classifies 429 as throttled, with the wait from Retry-After', () => {
    const error = thrown(() => secretFromAnswer(answer(429, '', {'retry-after': '30'}), context))
    expect(error.exitCode).toBe(ExitCode.throttled)
    expect(error.message).toContain('the server asks to wait 30 seconds')
    expect(thrown(() => secretFromAnswer(answer(429), context)).message).toContain('wait a while')
  })

  it('classifies 503 as busy, with the exit code of throttling and the wait from Retry-After', () => {
    const error = thrown(() => secretFromAnswer(answer(503, '', {'retry-after': '2'}), context))
    expect(error).toMatchObject({
      exitCode: ExitCode.throttled,
      message: 'The server is too busy to check the credentials now: it asks to wait 2 seconds.',
      suggestions: ['Try again after 2 seconds.'],
    })
  })

  it('classifies any other status, and a 200 without the JSON, as an unexpected answer', () => {
    const notFound = thrown(() => secretFromAnswer(answer(404, '', {}, 'Not Found'), context))
    expect(notFound).toMatchObject({
      exitCode: ExitCode.unexpectedResponse,
      message: 'The server answered 404 Not Found.',
    })
    for (const body of ['<html>', '"text"', '{"message": 42}', 'null']) {
      expect(thrown(() => secretFromAnswer(answer(200, body), context)).exitCode).toBe(
        ExitCode.unexpectedResponse,
      )
    }
  })
})

describe('transportFailure', () => {
  it('says how long it waited when the deadline passed', async () => {
    const error = await transportFailure(new DeadlinePassed(), {url, timeoutMs: 2500})
    expect(error).toMatchObject({
      exitCode: ExitCode.timedOut,
      message: 'No answer from pi.local:8443 within 2.5 seconds.',
    })
  })

  it('classifies a refused connection as a server not running', async () => {
    const refused = Object.assign(new Error('connect ECONNREFUSED'), {code: 'ECONNREFUSED'})
    const error = await transportFailure(refused, {url, timeoutMs: 1000})
    expect(error).toMatchObject({
      exitCode: ExitCode.notRunning,
      message: 'Cannot reach the server at pi.local:8443: nothing is listening there.',
    })
  })

  it('returns an error it does not know as it is, to be reported as a bug', async () => {
    const unknown = new Error('something else')
    expect(await transportFailure(unknown, {url, timeoutMs: 1000})).toBe(unknown)
  })
})

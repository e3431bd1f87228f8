import type {Socket} from 'node:net'

import {describe, expect, it} from 'vitest'

import {endpointUrl} from '../../src/client/endpoint.js'
import {fetchSecret} from '../../src/client/fetch-secret.js'
import {ExitCode, HomeauthError} from '../../src/errors.js'
import {useTestServer, user} from '../helpers/server.js'
import {useTempDir} from '../helpers/temp.js'

const tempDir = useTempDir()
const startServer = useTestServer()

describe('fetchSecret', () => {
  it('retries a GET whose connection was reset before any byte came back', async () => {
    const server = await startServer(tempDir())
    let resets = 0
    server.listener.httpsServer.prependListener('connection', (socket: Socket) => {
      if (resets++ < 2) socket.destroy()
    })
    const message = await fetchSecret({
      url: endpointUrl(server.url),
      ca: server.ca,
      credentials: user,
      timeoutMs: 5000,
    })
    expect(message).toBe('The answer is 42.')
    expect(resets).toBe(3)
  })

  it('gives up after its bounded retries with exit code 3', async () => {
    const server = await startServer(tempDir())
    server.listener.httpsServer.prependListener('connection', (socket: Socket) => socket.destroy())
    const error = await fetchSecret({
      url: endpointUrl(server.url),
      ca: server.ca,
      credentials: user,
      timeoutMs: 5000,
      retries: 1,
    }).catch((caught: unknown) => caught)
    expect(error).toBeInstanceOf(HomeauthError)
    expect((error as HomeauthError).exitCode).toBe(ExitCode.notRunning)
  })

  it('sends UTF-8 credentials normalised to NFC', async () => {
    const credentials = {username: 'Zoë', password: 'pässwörd'}
    const server = await startServer(tempDir(), {credentials})
    const decomposed = {username: 'Zoe\u0308', password: 'pa\u0308sswo\u0308rd'}
    expect(
      await fetchSecret({
        url: endpointUrl(server.url),
        ca: server.ca,
        credentials: decomposed,
        timeoutMs: 5000,
      }),
    ).toBe('The answer is 42.')
  })
})

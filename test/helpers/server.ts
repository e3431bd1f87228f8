import {readFile} from 'node:fs/promises'

import {afterEach} from 'vitest'

import {readConfig} from '../../src/config/config.js'
import {startHomeauth, type HomeauthServer, type ServeOptions} from '../../src/server/serve.js'
import {initialize} from '../../src/setup/init.js'

export const user = {username: 'JeffLynne', password: 'ELO'}

/**
 * `init` in-process in `configDir` for `user`, so that a server started there with `credentials:
 * undefined` checks the stored hash, as one started without -u/-p does.
 */
export function initForUser(configDir: string, secret = 'The answer is 42.'): Promise<unknown> {
  return initialize(configDir, {...user, secret, port: 8443, extraHosts: [], newCa: false})
}

export interface TestServer extends HomeauthServer {
  url: string
  /** The PEM a client must trust: the local CA, or the user's own certificate. */
  ca: string
}

/** Starts the real server on 127.0.0.1, port 0, with its CA in `configDir`; closed after the test. */
export function useTestServer(): (configDir: string, options?: Partial<ServeOptions>) => Promise<TestServer> {
  const started: HomeauthServer[] = []
  afterEach(async () => {
    await Promise.all(started.splice(0).map((server) => server.close()))
  })
  return async (configDir, options = {}) => {
    const server = await startHomeauth({
      configDir,
      config: await readConfig(configDir),
      credentials: user,
      secret: 'The answer is 42.',
      host: '127.0.0.1',
      port: 0,
      ...options,
    })
    started.push(server)
    // Once only, so a test may close a server early and the cleanup after it close it again.
    const close = server.close.bind(server)
    let closing: Promise<void> | undefined
    server.close = () => (closing ??= close())
    const ca = server.tls.authority ? await readFile(server.tls.authority.file, 'utf8') : server.tls.cert
    // Assigned, not spread: a spread would freeze `tls` as it was at start, before any reload.
    return Object.assign(server, {url: `https://127.0.0.1:${server.listener.port}`, ca})
  }
}

import {spawnSync} from 'node:child_process'
import {readFileSync} from 'node:fs'
import path from 'node:path'

import {describe, expect, it} from 'vitest'

import {homeauthCommand} from '../../src/invocation.js'
import {RotatingLog} from '../../src/daemon/log-file.js'
import {createLogFileOutput} from '../../src/ui/output.js'
import {ServerLog} from '../../src/ui/server-log.js'
import {useTempDir} from '../helpers/temp.js'

const time = String.raw`\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z`

describe('server log lines', () => {
  const tempDir = useTempDir()

  it('marks plain-HTTP requests in the access log and warns of credentials sent over plain HTTP, escaped', () => {
    const file = path.join(tempDir(), 'serve.log')
    const output = createLogFileOutput(new RotatingLog(file))
    const log = new ServerLog(output)
    const {events} = log
    events.onRequest({method: 'GET', path: '/trust', status: 200, ms: 1.25, user: undefined, plainHttp: true})
    const request = {address: '192.0.2.7\u001b[2J', method: 'GET', path: '/api/\u202esecret'}
    events.onUnencryptedCredentials({...request, credentialsAtStartup: false})
    events.onUnencryptedCredentials({...request, address: '192.0.2.8', credentialsAtStartup: true})
    log.close()
    const lines = readFileSync(file, 'utf8').split('\n')
    expect(lines).toEqual([
      expect.stringMatching(new RegExp(`^${time} GET /trust 200 1\\.3ms - \\(plain HTTP\\)$`)),
      expect.stringMatching(
        new RegExp(
          `^${time} credentials sent unencrypted over plain HTTP from 192\\.0\\.2\\.7\\\\x1b\\[2J \\(GET /api/\\\\u\\{202e\\}secret\\), refused unchecked: change that password with ${homeauthCommand('passwd').replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`,
        ),
      ),
      expect.stringMatching(
        new RegExp(
          `^${time} credentials sent unencrypted over plain HTTP from 192\\.0\\.2\\.8 .*refused unchecked: if it is this server's password, restart serve with a new one \\(it was given at start-up, which passwd cannot change\\)$`,
        ),
      ),
      '',
    ])
  })

  it('writes requests, failed logins, reloads and the stop to the log, user names escaped', () => {
    const file = path.join(tempDir(), 'serve.log')
    const output = createLogFileOutput(new RotatingLog(file))
    const log = new ServerLog(output)
    const {events} = log
    events.onRequest({method: 'GET', path: '/api/secret', status: 200, ms: 3.25, user: 'JeffLynne'})
    events.onRequest({method: 'GET', path: '/\u001b[2J', status: 401, ms: 0.5, user: undefined})
    events.onFailedLogin({
      address: '192.0.2.7',
      user: 'admin\u202e',
      failures: 2,
      lockedForSeconds: undefined,
    })
    events.onFailedLogin({address: '192.0.2.7', user: undefined, failures: 5, lockedForSeconds: 60})
    events.onReload('credentials read again from config.json')
    events.onError(new Error('socket hang up'))
    events.onReloadFailed(new Error('config.json is not JSON'))
    log.stopped('SIGTERM')
    log.close()
    const lines = readFileSync(file, 'utf8').split('\n')
    expect(lines).toHaveLength(9)
    expect(lines.slice(0, 5)).toEqual([
      expect.stringMatching(new RegExp(`^${time} GET /api/secret 200 3\\.3ms JeffLynne$`)),
      expect.stringMatching(new RegExp(`^${time} GET /\\\\x1b\\[2J 401 0\\.5ms -$`)),
      expect.stringMatching(
        new RegExp(
          `^${time} failed login from 192\\.0\\.2\\.7 as user "admin\\\\u\\{202e\\}": 2 failure\\(s\\) in the window$`,
        ),
      ),
      expect.stringMatching(
        new RegExp(
          `^${time} failed login from 192\\.0\\.2\\.7 as an unreadable Authorization header: locked out for 60 s$`,
        ),
      ),
      expect.stringMatching(new RegExp(`^${time} reload: credentials read again from config\\.json$`)),
    ])
    expect(lines.slice(5)).toEqual([
      'Error while answering a request: socket hang up',
      'Warning: reload failed, still serving the previous credentials and certificate: config.json is not JSON',
      'Received SIGTERM: homeauth stopped.',
      '',
    ])
  })

  it('says what a LAN address’s failure leaves of its prefix’s budget, and when it locks the whole prefix', () => {
    const writes: string[] = []
    const log = new ServerLog(createLogFileOutput({write: (text) => void writes.push(text)}))
    const prefix = {cidr: 'fd00:1::/64', failures: 7, lockedForSeconds: undefined}
    log.events.onFailedLogin({
      address: 'fd00:1::10',
      user: 'bob',
      failures: 2,
      lockedForSeconds: undefined,
      prefix,
    })
    log.events.onFailedLogin({
      address: 'fd00:1::20',
      user: 'bob',
      failures: 1,
      lockedForSeconds: undefined,
      prefix: {...prefix, failures: 0, lockedForSeconds: 60},
    })
    log.close()
    expect(writes).toEqual([
      expect.stringMatching(
        / failed login from fd00:1::10 as user "bob": 2 failure\(s\) in the window \(7 from the LAN prefix fd00:1::\/64\)\n$/,
      ),
      expect.stringMatching(
        / failed login from fd00:1::20 as user "bob": 1 failure\(s\) in the window; the whole LAN prefix fd00:1::\/64 locked out for 60 s\n$/,
      ),
    ])
  })

  it('writes the access lines of one turn of the event loop in one write, and before any other line', async () => {
    const writes: string[] = []
    const output = createLogFileOutput({write: (text) => void writes.push(text)})
    const log = new ServerLog(output)
    const {events} = log
    const request = {method: 'GET', path: '/api/secret', status: 200, ms: 1, user: 'JeffLynne'}
    events.onRequest(request)
    events.onRequest({...request, status: 401})
    expect(writes).toEqual([])
    await new Promise((resolve) => setImmediate(resolve))
    expect(writes).toHaveLength(1)
    expect(writes[0]?.split('\n')).toEqual([
      expect.stringMatching(/ GET \/api\/secret 200 1\.0ms JeffLynne$/),
      expect.stringMatching(/ GET \/api\/secret 401 1\.0ms JeffLynne$/),
      '',
    ])
    events.onRequest(request)
    events.onFailedLogin({address: '192.0.2.7', user: 'admin', failures: 1, lockedForSeconds: undefined})
    expect(writes.slice(1)).toEqual([
      expect.stringMatching(/ GET \/api\/secret 200 1\.0ms JeffLynne\n$/),
      expect.stringMatching(
        / failed login from 192\.0\.2\.7 as user "admin": 1 failure\(s\) in the window\n$/,
      ),
    ])
    log.close()
  })

  it('writes the access lines still waiting when the server stops, before the stop line', () => {
    const writes: string[] = []
    const output = createLogFileOutput({write: (text) => void writes.push(text)})
    const log = new ServerLog(output)
    log.events.onRequest({method: 'GET', path: '/', status: 200, ms: 2, user: 'JeffLynne'})
    log.stopped('SIGINT')
    log.close()
    expect(writes).toEqual([
      expect.stringMatching(/ GET \/ 200 2\.0ms JeffLynne\n$/),
      'Received SIGINT: homeauth stopped.\n',
    ])
  })

  it('writes a busy server’s access log in batches of at most 256 lines', () => {
    const writes: string[] = []
    const output = createLogFileOutput({write: (text) => void writes.push(text)})
    const log = new ServerLog(output)
    for (let count = 0; count < 300; count++)
      log.events.onRequest({method: 'GET', path: '/', status: 200, ms: 1, user: 'u'})
    expect(writes).toHaveLength(1)
    expect(writes[0]?.split('\n')).toHaveLength(257)
    log.stopped('SIGINT')
    expect(writes[1]?.split('\n')).toHaveLength(45)
    log.close()
  })

  it('writes the access lines still waiting when the process dies of an uncaught error', () => {
    const script = `
      import {createLogFileOutput} from ${JSON.stringify(path.resolve('dist/ui/output.js'))}
      import {ServerLog} from ${JSON.stringify(path.resolve('dist/ui/server-log.js'))}
      const output = createLogFileOutput({write: (text) => process.stdout.write(text)})
      new ServerLog(output).events.onRequest({method: 'GET', path: '/last', status: 500, ms: 1, user: undefined})
      throw new Error('crash')`
    const result = spawnSync(process.execPath, ['--input-type=module', '-e', script], {encoding: 'utf8'})
    expect(result.status).toBe(1)
    expect(result.stdout).toMatch(/ GET \/last 500 1\.0ms -\n$/)
  })

  it('stops listening for the process exit once closed', () => {
    const before = process.listenerCount('exit')
    const log = new ServerLog(createLogFileOutput({write: () => undefined}))
    expect(process.listenerCount('exit')).toBe(before + 1)
    log.close()
    expect(process.listenerCount('exit')).toBe(before)
  })
})

import {X509Certificate} from 'node:crypto'
import {readFileSync, writeFileSync} from 'node:fs'
import net from 'node:net'
import path from 'node:path'

import {parse} from 'plist'
import {describe, expect, it} from 'vitest'

import {createAuthority, issueServerCertificate} from '../../src/certificates/authority.js'
import {homeConstraints} from '../../src/certificates/constraints.js'
import {exportAuthority} from '../../src/certificates/export.js'
import type {AccessLogEntry} from '../../src/web/access-log.js'
import type {FailedLogin} from '../../src/web/basic-auth.js'
import type {UnencryptedCredentials} from '../../src/web/plain-http.js'
import {basicHeader, request, type Response} from '../helpers/https.js'
import {initForUser, useTestServer, user, type TestServer} from '../helpers/server.js'
import {useTempDir} from '../helpers/temp.js'

const tempDir = useTempDir()
const startServer = useTestServer()

function plainUrl(server: TestServer, target = '/'): string {
  return `http://127.0.0.1:${server.listener.port}${target}`
}

/** Writes `bytes` on a plain TCP connection and resolves with everything the server sent once it closes. */
function rawExchange(port: number, bytes: string): Promise<string> {
  return new Promise((resolve, reject) => {
    let received = ''
    const socket = net.connect(port, '127.0.0.1', () => socket.write(bytes))
    socket.on('data', (chunk: Buffer) => (received += chunk.toString('latin1')))
    socket.on('error', () => {})
    socket.setTimeout(10_000, () => {
      socket.destroy()
      reject(new Error('the server neither answered nor closed'))
    })
    socket.on('close', () => resolve(received))
  })
}

function expectPlainSecurityHeaders(response: Response): void {
  expect(response.headers['x-content-type-options']).toBe('nosniff')
  expect(response.headers['strict-transport-security']).toBeUndefined()
  expect(response.headers['x-powered-by']).toBeUndefined()
  expect(response.headers['x-frame-options']).toBe('DENY')
  expect(response.headers['content-security-policy']).toContain("default-src 'none'")
  expect(response.headers['content-security-policy']).toContain("frame-ancestors 'none'")
}

describe('plain HTTP on the HTTPS port', () => {
  it('serves the onboarding page at / and /trust, with the CA fingerprint, the HTTPS page’s CSP and no HSTS', async () => {
    const server = await startServer(tempDir())
    const fingerprint = server.tls.authority!.fingerprint
    const overHttps = await request(`${server.url}/trust`, {ca: server.ca})
    expect(overHttps.status).toBe(200)
    for (const target of ['/', '/trust']) {
      const response = await request(plainUrl(server, target))
      expect(response.status, target).toBe(200)
      expect(response.headers['content-security-policy']).toBe(overHttps.headers['content-security-policy'])
      expect(response.headers['content-type']).toMatch(/^text\/html/)
      expect(response.body).toContain('Trust homeauth on this device')
      expect(response.body).toContain(fingerprint.split(':').slice(0, 4).join(':'))
      expectPlainSecurityHeaders(response)
    }
  })

  it('serves the three CA files with their content types and the CA’s bytes', async () => {
    const server = await startServer(tempDir())
    const caPem = readFileSync(server.tls.authority!.file, 'utf8')
    const pem = await request(plainUrl(server, '/ca.pem'))
    expect(pem.status).toBe(200)
    expect(pem.headers['content-type']).toMatch(/^application\/x-pem-file/)
    expect(pem.body).toBe(caPem)

    const der = await rawBody(plainUrl(server, '/ca.crt'))
    expect(der.contentType).toMatch(/^application\/x-x509-ca-cert/)
    expect(der.body.equals(new X509Certificate(caPem).raw)).toBe(true)

    const profile = await rawBody(plainUrl(server, '/homeauth.mobileconfig'))
    expect(profile.contentType).toMatch(/^application\/x-apple-aspen-config/)
    expect(profile.body.equals(exportAuthority(caPem, 'mobileconfig'))).toBe(true)
    const payload = (parse(profile.body.toString('utf8')) as {PayloadContent: {PayloadContent: Buffer}[]})
      .PayloadContent[0]!.PayloadContent
    expect(Buffer.from(payload).equals(new X509Certificate(caPem).raw)).toBe(true)
  })

  it('answers anything else with 308 to the same host, port, path and query over https://', async () => {
    const server = await startServer(tempDir())
    const port = server.listener.port
    for (const target of ['/api/secret', '/anything?q=1', '/healthz', '//evil.example/x']) {
      const response = await request(plainUrl(server, target))
      expect(response.status, target).toBe(308)
      expect(response.headers.location).toBe(`https://127.0.0.1:${port}${target}`)
      expect(response.headers['cache-control']).toBe('no-store')
      expect(response.body).not.toContain('The answer is 42.')
      expectPlainSecurityHeaders(response)
    }
    const followed = await request(`https://127.0.0.1:${port}/api/secret`, {ca: server.ca, auth: user})
    expect(JSON.parse(followed.body)).toEqual({message: 'The answer is 42.'})
  })

  it('redirects requests other than GET and HEAD on the onboarding paths too', async () => {
    const server = await startServer(tempDir())
    for (const target of ['/', '/trust', '/ca.pem']) {
      const response = await request(plainUrl(server, target), {method: 'POST'})
      expect(response.status, target).toBe(308)
      expect(response.headers.location).toBe(`https://127.0.0.1:${server.listener.port}${target}`)
    }
  })

  it('keeps the Host header’s name and port in the redirect, and answers 400 to one that is not a host', async () => {
    const server = await startServer(tempDir())
    const port = server.listener.port
    const get = (host: string, target = '/x') =>
      rawExchange(port, `GET ${target} HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`)
    expect(await get('pi.home.arpa:8443')).toContain('\r\nLocation: https://pi.home.arpa:8443/x\r\n')
    expect(await get('[::1]:8443')).toContain('\r\nLocation: https://[::1]:8443/x\r\n')
    expect(await get('192.168.1.20')).toContain('\r\nLocation: https://192.168.1.20/x\r\n')
    for (const host of [
      '',
      'a b',
      'evil.example/x',
      'evil.example@x',
      '[::1',
      'pi:99999',
      '"><script>',
      'pi:',
    ]) {
      const reply = await get(host)
      expect(reply, host).toMatch(/^HTTP\/1\.1 400 /)
      expect(reply).not.toMatch(/\r\nLocation:/i)
    }
    for (const target of ['http://evil.example/x', '*']) {
      const reply = await rawExchange(
        port,
        `OPTIONS ${target} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n`,
      )
      expect(reply, target).toMatch(/^HTTP\/1\.1 400 /)
      expect(reply).not.toMatch(/\r\nLocation:/i)
    }
  })

  it('answers HEAD like GET, without a body', async () => {
    const server = await startServer(tempDir())
    for (const target of ['/', '/trust', '/ca.pem', '/ca.crt', '/homeauth.mobileconfig', '/api/secret']) {
      const get = await request(plainUrl(server, target))
      const head = await request(plainUrl(server, target), {method: 'HEAD'})
      expect(head.status, target).toBe(get.status)
      expect(head.body).toBe('')
      for (const name of ['content-type', 'location', 'content-security-policy']) {
        expect(head.headers[name], `${target} ${name}`).toBe(get.headers[name])
      }
    }
  })

  it('refuses any request with an Authorization header with 400, unchecked and uncounted, and warns', async () => {
    const warnings: UnencryptedCredentials[] = []
    const failures: FailedLogin[] = []
    const server = await startServer(tempDir(), {
      throttle: {maxFailures: 1},
      onUnencryptedCredentials: (warning) => warnings.push(warning),
      onFailedLogin: (failure) => failures.push(failure),
    })
    const right = basicHeader(user.username, user.password)
    const wrong = basicHeader(user.username, 'guess')
    const cases = [
      {target: '/api/secret', authorization: right},
      {target: '/api/secret', authorization: wrong},
      {target: '/', authorization: right},
      {target: '/trust', authorization: wrong},
      {target: '/ca.pem', authorization: right},
      {target: '/anything?q=1', authorization: 'Bearer abc'},
      {target: '/healthz', authorization: ''},
    ]
    for (const {target, authorization} of cases) {
      for (const method of ['GET', 'HEAD', 'POST']) {
        const response = await request(plainUrl(server, target), {method, headers: {authorization}})
        expect(response.status, `${method} ${target}`).toBe(400)
        expect(response.headers.location).toBeUndefined()
        expect(response.headers['www-authenticate']).toBeUndefined()
        expect(response.body).not.toContain('The answer is 42.')
      }
    }
    // This server was given its password at start-up: passwd cannot change it, a restart can.
    const json = await request(plainUrl(server, '/api/secret'), {headers: {authorization: right}})
    expect(JSON.parse(json.body).message).toBe(
      'The password was sent unencrypted over plain HTTP and was refused unchecked. Restart homeauth serve on the server with a new password (it was given when the server started), and use https://.',
    )
    const page = await request(plainUrl(server, '/'), {
      headers: {authorization: wrong, accept: 'text/html,*/*;q=0.8'},
    })
    expect(page.headers['content-type']).toMatch(/^text\/html/)
    expect(page.body).toContain('sent unencrypted')
    expect(page.body).toContain('Restart <code>homeauth serve</code> on the server with a new password')
    expect(page.body).not.toContain('passwd')
    expectPlainSecurityHeaders(page)

    expect(warnings).toHaveLength(cases.length * 3 + 2)
    expect(warnings[0]).toEqual({
      address: '127.0.0.1',
      method: 'GET',
      path: '/api/secret',
      credentialsAtStartup: true,
    })
    expect(failures).toEqual([])
    // One failure would lock this client out (maxFailures 1): none was counted.
    const https = await request(`${server.url}/api/secret`, {ca: server.ca, auth: user})
    expect(https.status).toBe(200)
  })

  it('names passwd on the 400 of a server that checks the stored users', async () => {
    const configDir = tempDir()
    await initForUser(configDir)
    const warnings: UnencryptedCredentials[] = []
    const server = await startServer(configDir, {
      credentials: undefined,
      onUnencryptedCredentials: (warning) => warnings.push(warning),
    })
    const json = await request(plainUrl(server, '/api/secret'), {auth: user})
    expect(json.status).toBe(400)
    expect(JSON.parse(json.body).message).toContain('Set a new password with homeauth passwd on the server')
    const page = await request(plainUrl(server, '/'), {auth: user, headers: {accept: 'text/html'}})
    expect(page.body).toContain('Set a new password with <code>homeauth passwd</code> on the server')
    expect(warnings.map((warning) => warning.credentialsAtStartup)).toEqual([false, false])
  })

  it('logs plain requests in the access log, marked as plain HTTP', async () => {
    const entries: AccessLogEntry[] = []
    const server = await startServer(tempDir(), {onRequest: (entry) => entries.push(entry)})
    await request(plainUrl(server, '/trust?x=1'))
    await request(`${server.url}/healthz`, {ca: server.ca})
    await expect.poll(() => entries.length).toBe(2)
    expect(entries[0]).toMatchObject({method: 'GET', path: '/trust', status: 200, plainHttp: true})
    expect(entries[1]).toMatchObject({method: 'GET', path: '/healthz', status: 200})
    expect(entries[1]!.plainHttp).toBeUndefined()
  })

  it('redirects everything to https:// with the user’s own certificate, which has no CA to hand out', async () => {
    const dir = tempDir()
    const authority = await createAuthority('someone else’s CA', homeConstraints([]))
    const own = await issueServerCertificate(authority, ['localhost', '127.0.0.1'])
    writeFileSync(path.join(dir, 'own.pem'), own.cert)
    writeFileSync(path.join(dir, 'own-key.pem'), own.key, {mode: 0o600})
    const server = await startServer(tempDir(), {
      tlsFiles: {cert: path.join(dir, 'own.pem'), key: path.join(dir, 'own-key.pem')},
    })
    for (const target of ['/', '/trust', '/ca.pem', '/ca.crt', '/homeauth.mobileconfig']) {
      const response = await request(plainUrl(server, target))
      expect(response.status, target).toBe(308)
      expect(response.headers.location).toBe(`https://127.0.0.1:${server.listener.port}${target}`)
    }
    const withCredentials = await request(plainUrl(server, '/'), {auth: user})
    expect(withCredentials.status).toBe(400)
  })
})

/** A plain GET whose body is kept as bytes. */
async function rawBody(url: string): Promise<{contentType: string; body: Buffer}> {
  const response = await fetch(url)
  return {
    contentType: response.headers.get('content-type') ?? '',
    body: Buffer.from(await response.arrayBuffer()),
  }
}

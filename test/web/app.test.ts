import tls from 'node:tls'

import {describe, expect, it} from 'vitest'

import type {AccessLogEntry} from '../../src/web/access-log.js'
import type {FailedLogin} from '../../src/web/basic-auth.js'
import {basicHeader, request} from '../helpers/https.js'
import {initForUser, useTestServer, user} from '../helpers/server.js'
import {useTempDir} from '../helpers/temp.js'

const tempDir = useTempDir()
const startServer = useTestServer()
const htmlAccept = 'text/html,application/xhtml+xml,*/*;q=0.8'

describe('authentication', () => {
  it('answers 401 with the exact challenge and the recipe’s body when no credentials are sent', async () => {
    const server = await startServer(tempDir())
    for (const path of ['/', '/api/secret', '/nowhere']) {
      const response = await request(`${server.url}${path}`, {ca: server.ca})
      expect(response.status).toBe(401)
      expect(response.headers['www-authenticate']).toBe('Basic realm="homeauth", charset="UTF-8"')
      expect(response.body).toBe('{"message":"Authenticate."}')
    }
  })

  it('uses the realm it is given', async () => {
    const server = await startServer(tempDir(), {realm: 'Main'})
    const response = await request(`${server.url}/api/secret`, {ca: server.ca})
    expect(response.headers['www-authenticate']).toBe('Basic realm="Main", charset="UTF-8"')
  })

  it('gives browsers a 401 page that says how to sign in, how to reset the password and where to trust the CA', async () => {
    const configDir = tempDir()
    await initForUser(configDir)
    const server = await startServer(configDir, {credentials: undefined})
    const response = await request(`${server.url}/`, {ca: server.ca, headers: {accept: htmlAccept}})
    expect(response.status).toBe(401)
    expect(response.headers['content-type']).toMatch(/^text\/html/)
    expect(response.body).toContain('Sign in required')
    expect(response.body).toContain('homeauth init')
    expect(response.body).toContain(
      'Forgot the password? Set a new password with <code>homeauth passwd</code>',
    )
    expect(response.body).toContain('<a href="/trust">')
    const json = await request(`${server.url}/`, {ca: server.ca, headers: {accept: 'application/json'}})
    expect(json.body).toBe('{"message":"Authenticate."}')
  })

  it('says on the 401 page that a server given its password at start-up takes a new one by a restart, not passwd', async () => {
    const server = await startServer(tempDir())
    const response = await request(`${server.url}/`, {ca: server.ca, headers: {accept: htmlAccept}})
    expect(response.status).toBe(401)
    expect(response.body).toContain('Forgot the password? Restart <code>homeauth serve</code> on the server')
    expect(response.body).not.toContain('passwd')
  })

  it('serves the secret as JSON and the page as HTML with the right credentials', async () => {
    const server = await startServer(tempDir())
    const api = await request(`${server.url}/api/secret`, {ca: server.ca, auth: user})
    expect(api.status).toBe(200)
    expect(api.headers['content-type']).toBe('application/json; charset=utf-8')
    expect(api.body).toBe('{"message":"The answer is 42."}')
    expect(api.headers['content-length']).toBe(String(api.body.length))
    const page = await request(`${server.url}/`, {ca: server.ca, auth: user})
    expect(page.status).toBe(200)
    expect(page.headers['content-type']).toMatch(/^text\/html/)
    expect(page.body).toContain('The answer is 42.')
  })

  it('refuses wrong and malformed credentials with 401 and keeps serving', async () => {
    const server = await startServer(tempDir(), {throttle: {maxFailures: 1000}})
    const refused = [
      basicHeader('JeffLynne', 'elo'),
      basicHeader('jefflynne', 'ELO'),
      basicHeader('Someone', 'ELO'),
      basicHeader('', 'ELO'),
      basicHeader('JeffLynne', ''),
      basicHeader('JeffLynne', 'ELO\u0000'),
      'Basic !!!not-base64!!!',
      `Basic ${Buffer.from('JeffLynneELO').toString('base64')}`,
      `Bearer ${Buffer.from('JeffLynne:ELO').toString('base64')}`,
      `Digest username="JeffLynne"`,
      'Basic',
      `Basic ${Buffer.from([0x4a, 0x3a, 0xff, 0xfe]).toString('base64')}`,
    ]
    for (const authorization of refused) {
      const response = await request(`${server.url}/api/secret`, {ca: server.ca, headers: {authorization}})
      expect(response.status, authorization).toBe(401)
      expect(response.body).toBe('{"message":"Authenticate."}')
    }
    expect((await request(`${server.url}/api/secret`, {ca: server.ca, auth: user})).status).toBe(200)
  })

  it('accepts the scheme in any letter case', async () => {
    const server = await startServer(tempDir())
    const token = Buffer.from('JeffLynne:ELO').toString('base64')
    const response = await request(`${server.url}/api/secret`, {
      ca: server.ca,
      headers: {authorization: `bAsIc ${token}`},
    })
    expect(response.status).toBe(200)
  })

  it('splits at the first colon, so passwords may contain colons', async () => {
    const credentials = {username: 'JeffLynne', password: 'a:b::c'}
    const server = await startServer(tempDir(), {credentials})
    expect((await request(`${server.url}/api/secret`, {ca: server.ca, auth: credentials})).status).toBe(200)
    expect(
      (await request(`${server.url}/api/secret`, {ca: server.ca, auth: {...credentials, password: 'a:b'}}))
        .status,
    ).toBe(401)
  })

  it('accepts UTF-8 credentials, whichever Unicode normal form the client sends', async () => {
    const credentials = {username: 'Zoë', password: 'pässwörd-ключ-🔑'}
    const server = await startServer(tempDir(), {credentials})
    expect((await request(`${server.url}/api/secret`, {ca: server.ca, auth: credentials})).status).toBe(200)
    const decomposed = {
      username: credentials.username.normalize('NFD'),
      password: credentials.password.normalize('NFD'),
    }
    expect(decomposed.password).not.toBe(credentials.password)
    expect((await request(`${server.url}/api/secret`, {ca: server.ca, auth: decomposed})).status).toBe(200)
  })
})

describe('routes', () => {
  it('escapes HTML in the secret on the page', async () => {
    const secret = '<script>alert("x")</script> & more'
    const server = await startServer(tempDir(), {secret})
    const page = await request(`${server.url}/`, {ca: server.ca, auth: user})
    expect(page.body).toContain('&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; more')
    expect(page.body).not.toContain('<script>')
    const api = await request(`${server.url}/api/secret`, {ca: server.ca, auth: user})
    expect(JSON.parse(api.body)).toEqual({message: secret})
  })

  it('renders a secret with $ replacement patterns literally', async () => {
    const secret = "I owe you $& and $' and $` and $1 and $$"
    const server = await startServer(tempDir(), {secret})
    const page = await request(`${server.url}/`, {ca: server.ca, auth: user})
    expect(page.body).toContain('I owe you $&amp; and $&#39; and $` and $1 and $$')
    expect(page.body).not.toContain('{{message}}')
  })

  it('answers /healthz without credentials and without the secret', async () => {
    const server = await startServer(tempDir())
    const response = await request(`${server.url}/healthz`, {ca: server.ca})
    expect(response.status).toBe(200)
    expect(response.headers['content-type']).toBe('application/json; charset=utf-8')
    expect(response.body).toBe('{"status":"ok"}')
  })

  it('answers the public paths as express routes them: any case, one trailing slash', async () => {
    const server = await startServer(tempDir())
    for (const path of ['/HealthZ', '/healthz/', '/Trust/', '/CA.pem']) {
      expect((await request(`${server.url}${path}`, {ca: server.ca})).status, path).toBe(200)
    }
    for (const path of ['/healthz//', '/healthz/x', '/trust.html']) {
      expect((await request(`${server.url}${path}`, {ca: server.ca})).status, path).toBe(401)
    }
  })

  it('answers 404 for unknown paths, after authentication', async () => {
    const server = await startServer(tempDir())
    const response = await request(`${server.url}/admin`, {ca: server.ca, auth: user})
    expect(response.status).toBe(404)
    expect(JSON.parse(response.body)).toEqual({message: 'Not found.'})
  })

  it('answers the browser’s favicon request with 204 after authentication', async () => {
    const server = await startServer(tempDir())
    expect((await request(`${server.url}/favicon.ico`, {ca: server.ca})).status).toBe(401)
    expect((await request(`${server.url}/favicon.ico`, {ca: server.ca, auth: user})).status).toBe(204)
  })

  it('answers 405 with Allow for other methods, after authentication', async () => {
    const server = await startServer(tempDir())
    for (const method of ['POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS']) {
      expect((await request(`${server.url}/api/secret`, {ca: server.ca, method})).status).toBe(401)
      const response = await request(`${server.url}/api/secret`, {ca: server.ca, method, auth: user})
      expect(response.status, method).toBe(405)
      expect(response.headers.allow).toBe('GET, HEAD')
    }
  })

  it('mirrors GET for HEAD, without a body', async () => {
    const server = await startServer(tempDir())
    const get = await request(`${server.url}/api/secret`, {ca: server.ca, auth: user})
    const head = await request(`${server.url}/api/secret`, {ca: server.ca, auth: user, method: 'HEAD'})
    expect(head.status).toBe(200)
    expect(head.body).toBe('')
    expect(head.headers['content-type']).toBe(get.headers['content-type'])
    expect(head.headers['content-length']).toBe(get.headers['content-length'])
  })

  it('answers 431 to a header section over 8 KiB, and keeps serving', async () => {
    const server = await startServer(tempDir())
    const response = await request(`${server.url}/api/secret`, {
      ca: server.ca,
      auth: user,
      headers: {'x-padding': 'a'.repeat(9000)},
    })
    expect(response.status).toBe(431)
    expect((await request(`${server.url}/api/secret`, {ca: server.ca, auth: user})).status).toBe(200)
  })

  it('answers a malformed path with 404, never a stack trace', async () => {
    const server = await startServer(tempDir())
    const response = await request(`${server.url}/api/%E0%A4%A`, {ca: server.ca, auth: user})
    expect(response.status).toBe(404)
    expect(response.body).toBe('{"message":"Not found."}')
  })
})

describe('the secret page', () => {
  const pageWith = async (options: Parameters<typeof startServer>[1], credentials = user) => {
    const server = await startServer(tempDir(), {...options, credentials})
    const before = Date.now()
    const response = await request(`${server.url}/`, {ca: server.ca, auth: credentials})
    return {response, before, after: Date.now()}
  }

  it('shows who is signed in, with the user name escaped', async () => {
    const credentials = {username: '<b>Zoë</b> & $& {{message}}', password: 'ELO'}
    const {response} = await pageWith({}, credentials)
    expect(response.status).toBe(200)
    expect(response.body).toContain(
      'Signed in as <strong id="user">&lt;b&gt;Zoë&lt;/b&gt; &amp; $&amp; {{message}}</strong>',
    )
    expect(response.body).not.toContain('<b>Zoë</b>')
  })

  it('shows the time it was served, rendered for each request', async () => {
    const first = await pageWith({})
    const servedAt = /<time id="served-at" datetime="([^"]+)">([^<]+)<\/time>/.exec(first.response.body)
    expect(servedAt).not.toBeNull()
    const served = Date.parse(servedAt![1]!)
    expect(served).toBeGreaterThanOrEqual(first.before - 1000)
    expect(served).toBeLessThanOrEqual(first.after + 1000)
    expect(servedAt![2]).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC[+-]\d\d:\d\d$/)
  })

  it('inserts a secret that looks like a placeholder or a replacement pattern literally', async () => {
    const secret = "{{user}} {{servedAt}} $& $' $` $1 $$ <img src=x onerror=alert(1)>"
    const {response} = await pageWith({secret})
    expect(response.body).toContain(
      '<p id="message">{{user}} {{servedAt}} $&amp; $&#39; $` $1 $$ &lt;img src=x onerror=alert(1)&gt;</p>',
    )
  })

  it('has a copy button hidden until its script runs, a sign-out link, and no inline script', async () => {
    const {response} = await pageWith({})
    expect(response.body).toMatch(/<button type="button" id="copy"[^>]* hidden>/)
    expect(response.body).toContain('<a href="/logout">Sign out</a>')
    expect(response.body).toContain('<script src="/app.js" defer></script>')
    expect(response.body).not.toMatch(/<script>|<script(?![^>]*\bsrc=)[^>]*>|\son\w+=/)
  })

  it('serves /app.js as JavaScript behind auth, and a CSP that allows it without unsafe-inline', async () => {
    const server = await startServer(tempDir())
    expect((await request(`${server.url}/app.js`, {ca: server.ca})).status).toBe(401)
    const script = await request(`${server.url}/app.js`, {ca: server.ca, auth: user})
    expect(script.status).toBe(200)
    expect(script.headers['content-type']).toBe('text/javascript; charset=utf-8')
    expect(script.body).toContain('navigator.clipboard.writeText')
    expect(script.body).not.toContain('42')
    const head = await request(`${server.url}/app.js`, {ca: server.ca, auth: user, method: 'HEAD'})
    expect(head.headers['content-length']).toBe(script.headers['content-length'])
    expect((await request(`${server.url}/app.js`, {ca: server.ca, auth: user, method: 'POST'})).status).toBe(
      405,
    )
    const page = await request(`${server.url}/`, {ca: server.ca, auth: user})
    const csp = page.headers['content-security-policy'] ?? ''
    expect(csp).toContain("script-src 'self'")
    expect(csp).not.toContain('unsafe-inline')
    expect(csp).toMatch(/style-src 'sha256-[A-Za-z0-9+/]+=*'/)
  })
})

describe('sign out', () => {
  it('answers /logout with 401, the same challenge and a page that says what it does', async () => {
    const server = await startServer(tempDir(), {realm: 'Main'})
    for (const auth of [undefined, user]) {
      const response = await request(`${server.url}/logout`, {ca: server.ca, auth})
      expect(response.status).toBe(401)
      expect(response.headers['www-authenticate']).toBe('Basic realm="Main", charset="UTF-8"')
      expect(response.headers['content-type']).toMatch(/^text\/html/)
      expect(response.headers['cache-control']).toBe('no-store')
      expect(response.body).toContain('forget')
      expect(response.body).toContain('until they are closed')
      expect(response.body).not.toContain('42')
    }
  })

  it('never counts /logout as a failed login, whatever Authorization it carries', async () => {
    const failures: FailedLogin[] = []
    const server = await startServer(tempDir(), {
      throttle: {maxFailures: 2},
      onFailedLogin: (failure) => failures.push(failure),
    })
    const wrong = [
      basicHeader('JeffLynne', 'wrong'),
      basicHeader('mallory', 'guess'),
      'Basic !!!',
      'Bearer token',
    ]
    for (let round = 0; round < 5; round++) {
      for (const authorization of wrong) {
        const response = await request(`${server.url}/logout`, {ca: server.ca, headers: {authorization}})
        expect(response.status).toBe(401)
      }
    }
    expect(failures).toEqual([])
    expect((await request(`${server.url}/api/secret`, {ca: server.ca, auth: user})).status).toBe(200)
  })

  it('answers other methods on /logout with 405 after authentication', async () => {
    const server = await startServer(tempDir())
    expect((await request(`${server.url}/logout`, {ca: server.ca, method: 'POST'})).status).toBe(401)
    const response = await request(`${server.url}/logout`, {ca: server.ca, method: 'POST', auth: user})
    expect(response.status).toBe(405)
    expect(response.headers.allow).toBe('GET, HEAD')
  })
})

describe('security headers', () => {
  it('sends no-store and HSTS with every answer, public or not, found or not', async () => {
    const server = await startServer(tempDir())
    const answers = [
      await request(`${server.url}/healthz`, {ca: server.ca}),
      await request(`${server.url}/trust`, {ca: server.ca, method: 'POST'}),
      await request(`${server.url}/nowhere`, {ca: server.ca, auth: user}),
      await request(`${server.url}/favicon.ico`, {ca: server.ca, auth: user}),
    ]
    expect(answers.map((answer) => answer.status)).toEqual([200, 405, 404, 204])
    for (const {headers} of answers) {
      expect(headers['cache-control']).toBe('no-store')
      expect(headers['strict-transport-security']).toBe('max-age=3600')
    }
  })

  it('sends HSTS without includeSubDomains, nosniff, a CSP without external sources, frame denial and no-store', async () => {
    const server = await startServer(tempDir())
    for (const path of ['/', '/api/secret']) {
      const {headers} = await request(`${server.url}${path}`, {ca: server.ca, auth: user})
      expect(headers['strict-transport-security']).toBe('max-age=3600')
      expect(headers['x-content-type-options']).toBe('nosniff')
      expect(headers['x-frame-options']).toBe('DENY')
      expect(headers['cache-control']).toBe('no-store')
      expect(headers['x-powered-by']).toBeUndefined()
      const csp = headers['content-security-policy'] ?? ''
      expect(csp).toContain("default-src 'none'")
      expect(csp).toContain("frame-ancestors 'none'")
      expect(csp).not.toMatch(/https?:|\*/)
    }
  })

  it('lets the page be embedded by the origins given with frameAncestors', async () => {
    const server = await startServer(tempDir(), {frameAncestors: ['https://dashboard.local:8123']})
    const {headers} = await request(`${server.url}/`, {ca: server.ca, auth: user})
    expect(headers['content-security-policy']).toContain('frame-ancestors https://dashboard.local:8123')
    expect(headers['x-frame-options']).toBeUndefined()
  })
})

describe('TLS', () => {
  function handshake(port: number, ca: string, options: tls.ConnectionOptions): Promise<string> {
    return new Promise((resolve, reject) => {
      const socket = tls.connect({host: '127.0.0.1', port, ca, servername: 'localhost', ...options}, () => {
        resolve(socket.getProtocol() ?? '')
        socket.end()
      })
      socket.on('error', reject)
    })
  }

  it('accepts TLS 1.2 and 1.3 and refuses 1.0 and 1.1 offered for real', async () => {
    const server = await startServer(tempDir())
    const port = server.listener.port
    expect(await handshake(port, server.ca, {minVersion: 'TLSv1.3'})).toBe('TLSv1.3')
    expect(await handshake(port, server.ca, {maxVersion: 'TLSv1.2'})).toBe('TLSv1.2')
    for (const version of ['TLSv1', 'TLSv1.1'] as const) {
      const offered = {minVersion: version, maxVersion: version, ciphers: 'DEFAULT@SECLEVEL=0'}
      await expect(handshake(port, server.ca, offered)).rejects.toThrow(/version|protocol/i)
    }
  })

  it('presents a certificate that chains to the CA for localhost and 127.0.0.1', async () => {
    const server = await startServer(tempDir())
    const port = server.listener.port
    expect(await handshake(port, server.ca, {servername: 'localhost'})).toMatch(/TLSv1\.[23]/)
    expect((await request(`https://localhost:${port}/healthz`, {ca: server.ca})).status).toBe(200)
  })

  it('swaps the certificate for new connections without a restart', async () => {
    const server = await startServer(tempDir())
    const other = await startServer(tempDir())
    server.listener.setTls(other.tls)
    await expect(request(`${server.url}/healthz`, {ca: server.ca})).rejects.toThrow()
    expect((await request(`${server.url}/healthz`, {ca: other.ca})).status).toBe(200)
  })
})

describe('access log', () => {
  it('reports method, path, status, time and the presented user name for each request', async () => {
    const entries: AccessLogEntry[] = []
    const server = await startServer(tempDir(), {onRequest: (entry) => entries.push(entry)})
    await request(`${server.url}/api/secret?x=1`, {ca: server.ca, auth: user})
    await request(`${server.url}/`, {ca: server.ca})
    expect(entries).toMatchObject([
      {method: 'GET', path: '/api/secret', status: 200, user: 'JeffLynne'},
      {method: 'GET', path: '/', status: 401, user: undefined},
    ])
    expect(entries[0]?.ms).toBeGreaterThanOrEqual(0)
  })
})

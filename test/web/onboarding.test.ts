import {createHash, X509Certificate} from 'node:crypto'
import {readFileSync} from 'node:fs'
import type {IncomingHttpHeaders} from 'node:http'
import https from 'node:https'
import path from 'node:path'

import {parse} from 'plist'
import {describe, expect, it} from 'vitest'

import {exportAuthority} from '../../src/certificates/export.js'
import {loadOrCreateServerTls} from '../../src/certificates/store.js'
import {httpsOrigin} from '../../src/web/onboarding.js'
import {storeAuthority, unconstrainedAuthority} from '../helpers/authorities.js'
import {request} from '../helpers/https.js'
import {useTestServer, user, type TestServer} from '../helpers/server.js'
import {useTempDir} from '../helpers/temp.js'

const tempDir = useTempDir()
const startServer = useTestServer()

const userAgents = {
  iphone:
    'Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1',
  android:
    'Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Mobile Safari/537.36',
}

interface BinaryResponse {
  status: number
  headers: IncomingHttpHeaders
  body: Buffer
}

/** One HTTPS request without credentials that trusts only `ca`, keeping the body's bytes as sent. */
function fetchBytes(url: string, ca: string, method = 'GET'): Promise<BinaryResponse> {
  return new Promise((resolve, reject) => {
    const req = https.request(url, {ca, method, agent: false}, (res) => {
      const chunks: Buffer[] = []
      res.on('data', (chunk: Buffer) => chunks.push(chunk))
      res.on('end', () =>
        resolve({status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks)}),
      )
      res.on('error', reject)
    })
    req.setTimeout(10_000, () => req.destroy(new Error(`request to ${url} timed out`)))
    req.on('error', reject)
    req.end()
  })
}

/** The page's text with its markup's whitespace folded, as a reader sees the sentences. */
function folded(html: string): string {
  return html.replace(/\s+/g, ' ')
}

/** The hrefs of the page's download buttons, in page order. */
function downloads(html: string): string[] {
  return [...html.matchAll(/<a class="button" href="([^"]+)">Download/g)].map(([, href]) => href!)
}

async function trustPage(server: TestServer, headers: Record<string, string> = {}) {
  // The certificate is checked for localhost whichever Host the request names.
  return request(`${server.url}/trust`, {ca: server.ca, headers, servername: 'localhost'})
}

describe('the onboarding routes over HTTPS', () => {
  it('serve the three CA files without credentials, with their content types and bytes', async () => {
    const server = await startServer(tempDir())
    const files = [
      {path: '/ca.pem', type: 'application/x-pem-file', name: 'ca.pem', bytes: Buffer.from(server.ca)},
      {
        path: '/ca.crt',
        type: 'application/x-x509-ca-cert',
        name: 'ca.crt',
        bytes: new X509Certificate(server.ca).raw,
      },
      {
        path: '/homeauth.mobileconfig',
        type: 'application/x-apple-aspen-config',
        name: 'homeauth.mobileconfig',
        bytes: exportAuthority(server.ca, 'mobileconfig'),
      },
    ]
    for (const file of files) {
      const response = await fetchBytes(`${server.url}${file.path}`, server.ca)
      expect(response.status, file.path).toBe(200)
      expect(response.headers['content-type']).toBe(file.type)
      expect(response.headers['content-disposition']).toBe(`attachment; filename="${file.name}"`)
      expect(response.headers['cache-control']).toBe('no-store')
      expect(response.headers['x-content-type-options']).toBe('nosniff')
      expect(response.body.equals(file.bytes), file.path).toBe(true)
    }
    const crt = await fetchBytes(`${server.url}/ca.crt`, server.ca)
    expect(new X509Certificate(crt.body).fingerprint256).toBe(server.tls.authority!.fingerprint)
    const profile = parse(
      (await fetchBytes(`${server.url}/homeauth.mobileconfig`, server.ca)).body.toString(),
    )
    const payload = (profile as {PayloadContent: {PayloadContent: Uint8Array}[]}).PayloadContent[0]!
    expect(Buffer.from(payload.PayloadContent).equals(crt.body)).toBe(true)
  })

  it('say on the page what a constrained CA means for the phone, and nothing of the kind for an older CA', async () => {
    const constrained = folded((await trustPage(await startServer(tempDir()))).body)
    expect(constrained).toContain('This certificate can only vouch for your home’s devices')
    expect(constrained).toContain('<code>home.arpa</code>')
    const olderDir = path.join(tempDir(), 'config')
    await storeAuthority(olderDir, unconstrainedAuthority(tempDir()))
    const older = folded((await trustPage(await startServer(olderDir))).body)
    expect(older).toContain('Check the CA fingerprint')
    expect(older).not.toContain('can only vouch')
  })

  it('serve the onboarding page without credentials, with the CA fingerprint and the sentence to compare it', async () => {
    const server = await startServer(tempDir())
    const response = await trustPage(server)
    expect(response.status).toBe(200)
    expect(response.headers['content-type']).toMatch(/^text\/html/)
    expect(response.headers['cache-control']).toBe('no-store')
    const fingerprint = server.tls.authority!.fingerprint.split(':')
    for (let start = 0; start < fingerprint.length; start += 4) {
      expect(response.body).toContain(`<span>${fingerprint.slice(start, start + 4).join(':')}</span>`)
    }
    expect(folded(response.body)).toContain('compare it with the CA fingerprint your terminal shows')
    expect(response.body).not.toMatch(/<script|https?:\/\/(?!127\.0\.0\.1)/)
  })

  it('allow the page’s inline styles in its Content-Security-Policy, and nothing external', async () => {
    const server = await startServer(tempDir())
    const response = await trustPage(server)
    const csp = String(response.headers['content-security-policy'])
    const styles = [...response.body.matchAll(/<style>([\s\S]*?)<\/style>/g)]
    expect(styles).toHaveLength(1)
    const hash = createHash('sha256').update(styles[0]![1]!).digest('base64')
    expect(csp).toContain(`style-src 'sha256-${hash}'`)
    expect(csp).toContain("default-src 'none'")
    expect(csp).not.toContain('unsafe-inline')
  })

  it('put the profile and the Certificate Trust Settings step first for an iPhone', async () => {
    const server = await startServer(tempDir())
    const page = (await trustPage(server, {'user-agent': userAgents.iphone})).body
    expect(downloads(page)[0]).toBe('/homeauth.mobileconfig')
    expect(page).toContain('Certificate Trust Settings')
    expect(page.indexOf('iPhone and iPad')).toBeLessThan(page.indexOf('Android'))
    expect(page.indexOf('Certificate Trust Settings')).toBeLessThan(page.indexOf('<details>'))
  })

  it('put ca.crt and the Android steps first for an Android phone, the other platforms after', async () => {
    const server = await startServer(tempDir())
    const page = (await trustPage(server, {'user-agent': userAgents.android})).body
    expect(downloads(page)[0]).toBe('/ca.crt')
    expect(page.indexOf('Install a certificate › CA certificate')).toBeLessThan(page.indexOf('<details>'))
    for (const other of ['iPhone and iPad', 'macOS', 'Windows', 'Linux and Firefox']) {
      expect(page).toContain(`<details><summary>${other}</summary>`)
    }
  })

  it('end with a link to the HTTPS page on the host and port the browser asked for', async () => {
    const server = await startServer(tempDir())
    const page = (await trustPage(server, {host: 'Pi.Home.Arpa:8443'})).body
    expect(page).toContain('<a class="button primary" href="https://pi.home.arpa:8443/">')
    const own = (await trustPage(server)).body
    expect(own).toContain(`href="https://127.0.0.1:${server.listener.port}/"`)
  })

  it('never reflect a hostile Host header, and offer no link then', async () => {
    const server = await startServer(tempDir())
    const hostile = `evil.example"><script>alert(1)</script><a href="x`
    const response = await trustPage(server, {host: hostile})
    expect(response.status).toBe(200)
    expect(response.body).not.toContain('<script>')
    expect(response.body).not.toContain('evil.example')
    expect(response.body).not.toContain('button primary')
    expect(folded(response.body)).toContain('open this server’s address with https:// in front')
  })

  it('answer HEAD like GET, without a body', async () => {
    const server = await startServer(tempDir())
    for (const file of ['/trust', '/ca.pem', '/ca.crt', '/homeauth.mobileconfig']) {
      const get = await fetchBytes(`${server.url}${file}`, server.ca)
      const head = await fetchBytes(`${server.url}${file}`, server.ca, 'HEAD')
      expect(head.status, file).toBe(200)
      expect(head.headers['content-type']).toBe(get.headers['content-type'])
      expect(head.headers['content-length']).toBe(String(get.body.length))
      expect(head.body.length).toBe(0)
    }
  })

  it('answer other methods on their paths with 405 and Allow', async () => {
    const server = await startServer(tempDir())
    for (const file of ['/trust', '/ca.pem', '/ca.crt', '/homeauth.mobileconfig']) {
      const response = await request(`${server.url}${file}`, {ca: server.ca, method: 'POST'})
      expect(response.status, file).toBe(405)
      expect(response.headers.allow).toBe('GET, HEAD')
    }
  })

  it('leave every other path behind Basic auth', async () => {
    const server = await startServer(tempDir())
    for (const other of [
      '/',
      '/api/secret',
      '/ca-key.pem',
      '/server-key.pem',
      '/trust/more',
      '/ca.pem.bak',
    ]) {
      const response = await request(`${server.url}${other}`, {ca: server.ca})
      expect(response.status, other).toBe(401)
    }
  })

  it('are not served with the user’s own certificate: those paths need credentials and are not found', async () => {
    const managed = tempDir()
    await loadOrCreateServerTls(managed)
    const server = await startServer(tempDir(), {
      tlsFiles: {cert: path.join(managed, 'server.pem'), key: path.join(managed, 'server-key.pem')},
    })
    expect(server.tls.authority).toBeUndefined()
    const ca = readFileSync(path.join(managed, 'ca.pem'), 'utf8')
    for (const file of ['/trust', '/ca.pem', '/ca.crt', '/homeauth.mobileconfig']) {
      expect((await request(`${server.url}${file}`, {ca})).status, file).toBe(401)
      expect((await request(`${server.url}${file}`, {ca, auth: user})).status, file).toBe(404)
    }
    // Nor does the 401 page send browsers there.
    const page = await request(`${server.url}/`, {ca, headers: {accept: 'text/html'}})
    expect(page.body).toContain('Sign in required')
    expect(page.body).not.toContain('/trust')
  })
})

describe('httpsOrigin', () => {
  it('keeps a host name or an IP literal with an optional port, in lower case', () => {
    expect(httpsOrigin('Pi.Home.Arpa')).toBe('https://pi.home.arpa')
    expect(httpsOrigin('pi.local:8443')).toBe('https://pi.local:8443')
    expect(httpsOrigin('192.168.1.20:8443')).toBe('https://192.168.1.20:8443')
    expect(httpsOrigin('[FE80::1]:8443')).toBe('https://[fe80::1]:8443')
    expect(httpsOrigin('[::1]')).toBe('https://[::1]')
  })

  it('refuses anything else', () => {
    for (const host of [
      undefined,
      '',
      'pi.local:',
      'pi.local:0',
      'pi.local:65536',
      'pi.local:84a3',
      '::1',
      '[not-an-address]:8443',
      '*.example.com',
      'user@pi.local',
      'pi.local/path',
      'pi local',
      'a"b',
      'pi.local:8443:1',
      '-pi.local',
    ]) {
      expect(httpsOrigin(host), String(host)).toBeUndefined()
    }
  })
})

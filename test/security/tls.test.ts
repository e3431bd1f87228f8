import {spawn, spawnSync} from 'node:child_process'
import {X509Certificate} from 'node:crypto'
import {writeFileSync} from 'node:fs'
import path from 'node:path'
import tls from 'node:tls'

import {generate} from 'selfsigned'
import {describe, expect, it} from 'vitest'

import {useTestServer, type TestServer} from '../helpers/server.js'
import {useTempDir} from '../helpers/temp.js'

const tempDir = useTempDir()
const startServer = useTestServer()

/** Failed logins never matter here, but every server of the security battery is started like this. */
const throttle = {maxFailures: 100_000}

interface Handshake {
  protocol: string | null
  cipher: tls.CipherNameAndProtocol
  ephemeral: tls.EphemeralKeyInfo | object | null
  peer: X509Certificate
  authorized: boolean
}

/** One TLS handshake with 127.0.0.1 that trusts only `ca`; rejects with the client's error when it fails. */
function handshake(port: number, ca: string, options: tls.ConnectionOptions = {}): Promise<Handshake> {
  return new Promise((resolve, reject) => {
    const socket = tls.connect({host: '127.0.0.1', port, ca, servername: 'localhost', ...options}, () => {
      resolve({
        protocol: socket.getProtocol(),
        cipher: socket.getCipher(),
        ephemeral: socket.getEphemeralKeyInfo(),
        peer: new X509Certificate(socket.getPeerCertificate().raw),
        authorized: socket.authorized,
      })
      socket.end()
    })
    socket.setTimeout(10_000, () => socket.destroy(new Error('handshake timed out')))
    socket.on('error', reject)
  })
}

/** A server with the user's own RSA certificate (--cert/--key), which the server's ECDHE-RSA suites exist for. */
async function startRsaServer(): Promise<TestServer> {
  const dir = tempDir()
  const made = await generate([{name: 'commonName', value: 'localhost'}], {
    keyType: 'rsa',
    keySize: 2048,
    algorithm: 'sha256',
    extensions: [
      {name: 'basicConstraints', cA: false},
      {name: 'keyUsage', digitalSignature: true, keyEncipherment: true},
      {name: 'extKeyUsage', serverAuth: true},
      {
        name: 'subjectAltName',
        altNames: [
          {type: 2, value: 'localhost'},
          {type: 7, ip: '127.0.0.1'},
        ],
      },
    ],
  })
  const cert = path.join(dir, 'own-cert.pem')
  const key = path.join(dir, 'own-key.pem')
  writeFileSync(cert, made.cert)
  writeFileSync(key, made.private, {mode: 0o600})
  return startServer(tempDir(), {tlsFiles: {cert, key}, throttle})
}

const aead = /(GCM|CHACHA20-POLY1305|CHACHA20_POLY1305)/

const cbcSuites = {
  ecdsa: [
    'ECDHE-ECDSA-AES128-SHA',
    'ECDHE-ECDSA-AES256-SHA',
    'ECDHE-ECDSA-AES128-SHA256',
    'ECDHE-ECDSA-AES256-SHA384',
  ],
  rsa: ['ECDHE-RSA-AES128-SHA', 'ECDHE-RSA-AES256-SHA', 'ECDHE-RSA-AES128-SHA256', 'ECDHE-RSA-AES256-SHA384'],
}
/**
 * Static RSA key exchange: no forward secrecy, AEAD or not. Only an RSA certificate could serve them,
 * so the RSA server below is the test that shows the cipher list (not the key type) refuses them.
 */
const nonForwardSecretSuites = ['AES128-GCM-SHA256', 'AES256-GCM-SHA384', 'AES128-SHA', 'AES256-SHA256']

describe('TLS 1.2 cipher suites with the EC certificate homeauth makes', () => {
  it.each(cbcSuites.ecdsa)('refuses a TLS 1.2 client that offers only the CBC suite %s', async (ciphers) => {
    const server = await startServer(tempDir(), {throttle})
    await expect(
      handshake(server.listener.port, server.ca, {maxVersion: 'TLSv1.2', ciphers}),
    ).rejects.toThrow(/handshake failure/)
  })

  it.each(nonForwardSecretSuites)(
    'refuses a TLS 1.2 client that offers only the non-forward-secret suite %s',
    async (ciphers) => {
      const server = await startServer(tempDir(), {throttle})
      await expect(
        handshake(server.listener.port, server.ca, {maxVersion: 'TLSv1.2', ciphers}),
      ).rejects.toThrow(/handshake failure/)
    },
  )

  it('negotiates an ECDHE suite with an AEAD cipher and an ephemeral ECDH key for a TLS 1.2 client with default suites', async () => {
    const server = await startServer(tempDir(), {throttle})
    const result = await handshake(server.listener.port, server.ca, {maxVersion: 'TLSv1.2'})
    expect(result.protocol).toBe('TLSv1.2')
    expect(result.cipher.name).toMatch(/^ECDHE-ECDSA-/)
    expect(result.cipher.name).toMatch(aead)
    expect(result.cipher.standardName).toMatch(/^TLS_ECDHE_ECDSA_WITH_/)
    expect(result.ephemeral).toMatchObject({type: 'ECDH'})
  })

  it('picks its own preferred suite over the client’s order (honorCipherOrder)', async () => {
    const server = await startServer(tempDir(), {throttle})
    const result = await handshake(server.listener.port, server.ca, {
      maxVersion: 'TLSv1.2',
      ciphers: 'ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-ECDSA-AES128-GCM-SHA256',
    })
    expect(result.cipher.name).toBe('ECDHE-ECDSA-AES128-GCM-SHA256')
  })

  it('negotiates an AEAD suite for a TLS 1.3 client', async () => {
    const server = await startServer(tempDir(), {throttle})
    const result = await handshake(server.listener.port, server.ca, {minVersion: 'TLSv1.3'})
    expect(result.protocol).toBe('TLSv1.3')
    expect(['TLS_AES_128_GCM_SHA256', 'TLS_AES_256_GCM_SHA384', 'TLS_CHACHA20_POLY1305_SHA256']).toContain(
      result.cipher.name,
    )
  })
})

describe('TLS 1.2 cipher suites with the user’s own RSA certificate', () => {
  it('refuses TLS 1.2 clients that offer only CBC or only non-forward-secret suites', async () => {
    const server = await startRsaServer()
    for (const ciphers of [...cbcSuites.rsa, ...nonForwardSecretSuites]) {
      await expect(
        handshake(server.listener.port, server.ca, {maxVersion: 'TLSv1.2', ciphers}),
        ciphers,
      ).rejects.toThrow(/handshake failure/)
    }
  })

  it('negotiates ECDHE-RSA with an AEAD cipher for a TLS 1.2 client with default suites', async () => {
    const server = await startRsaServer()
    const result = await handshake(server.listener.port, server.ca, {maxVersion: 'TLSv1.2'})
    expect(result.protocol).toBe('TLSv1.2')
    expect(result.cipher.name).toMatch(/^ECDHE-RSA-/)
    expect(result.cipher.name).toMatch(aead)
    expect(result.ephemeral).toMatchObject({type: 'ECDH'})
  })
})

describe('the served certificate', () => {
  it('chains to the CA the client trusts, and to nothing else', async () => {
    const server = await startServer(tempDir(), {throttle})
    const ca = new X509Certificate(server.ca)
    const result = await handshake(server.listener.port, server.ca)
    expect(result.authorized).toBe(true)
    expect(result.peer.checkIssued(ca)).toBe(true)
    expect(result.peer.verify(ca.publicKey)).toBe(true)
    expect(result.peer.ca).toBe(false)
    const other = await startServer(tempDir(), {throttle})
    await expect(handshake(server.listener.port, other.ca)).rejects.toThrow(/certificate/i)
  })

  it('names localhost and 127.0.0.1 in its subjectAltName, and a client checks the host it used', async () => {
    const server = await startServer(tempDir(), {throttle})
    const byName = await handshake(server.listener.port, server.ca, {servername: 'localhost'})
    expect(byName.authorized).toBe(true)
    expect(byName.peer.subjectAltName).toMatch(/(^|, )DNS:localhost(,|$)/)
    expect(byName.peer.subjectAltName).toMatch(/(^|, )IP Address:127\.0\.0\.1(,|$)/)
    expect(byName.peer.checkHost('localhost')).toBe('localhost')
    expect(byName.peer.checkIP('127.0.0.1')).toBe('127.0.0.1')
    // Without a server name, Node checks the certificate against the address it connected to.
    const byAddress = await handshake(server.listener.port, server.ca, {servername: undefined})
    expect(byAddress.authorized).toBe(true)
    await expect(
      handshake(server.listener.port, server.ca, {servername: 'evil.example'}),
    ).rejects.toMatchObject({code: 'ERR_TLS_CERT_ALTNAME_INVALID'})
  })
})

const hasOpenssl = spawnSync('openssl', ['version']).status === 0

interface ClientRun {
  code: number | null
  output: string
}

/**
 * `openssl s_client` against the server. Asynchronous on purpose: the server runs in this process,
 * and a synchronous spawn would block the event loop that must answer the handshake. `Q` on stdin
 * makes a connected client quit; the timeout bounds a hang.
 */
function sClient(server: TestServer, ...args: string[]): Promise<ClientRun> {
  return new Promise((resolve, reject) => {
    const child = spawn('openssl', [
      's_client',
      '-connect',
      `127.0.0.1:${server.listener.port}`,
      '-servername',
      'localhost',
      '-CAfile',
      server.tls.authority!.file,
      '-verify_hostname',
      'localhost',
      '-verify_return_error',
      ...args,
    ])
    let output = ''
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (output += chunk))
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (output += chunk))
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000)
    child.on('error', reject)
    child.on('close', (code) => {
      clearTimeout(timer)
      resolve({code, output})
    })
    child.stdin.on('error', () => {})
    child.stdin.end('Q\n')
  })
}

describe.skipIf(!hasOpenssl)('openssl s_client', () => {
  it('fails to connect with TLS 1.1 or 1.0: the server sends a protocol_version alert', async () => {
    const server = await startServer(tempDir(), {throttle})
    for (const version of ['-tls1_1', '-tls1']) {
      const run = await sClient(server, version, '-cipher', 'DEFAULT@SECLEVEL=0')
      expect(run.code, run.output).not.toBe(0)
      expect(run.output).toMatch(/alert protocol version/)
      expect(run.output).toMatch(/Cipher is \(NONE\)/)
    }
  })

  it('fails to connect with TLS 1.2 and only a CBC or a non-forward-secret suite', async () => {
    const server = await startServer(tempDir(), {throttle})
    for (const cipher of ['ECDHE-ECDSA-AES128-SHA', 'AES128-GCM-SHA256']) {
      const run = await sClient(server, '-tls1_2', '-cipher', cipher)
      expect(run.code, run.output).not.toBe(0)
      expect(run.output).toMatch(/alert handshake failure/)
    }
  })

  it('connects with TLS 1.2 and its default suites, on ECDHE with AES-GCM, and verifies the chain', async () => {
    const server = await startServer(tempDir(), {throttle})
    const run = await sClient(server, '-tls1_2')
    expect(run.code, run.output).toBe(0)
    expect(run.output).toMatch(/New, TLSv1\.2, Cipher is ECDHE-ECDSA-AES(128|256)-GCM-SHA(256|384)/)
    expect(run.output).toContain('Verify return code: 0 (ok)')
  })

  it('connects with TLS 1.3 and verifies the chain and the host name', async () => {
    const server = await startServer(tempDir(), {throttle})
    const run = await sClient(server, '-tls1_3')
    expect(run.code, run.output).toBe(0)
    expect(run.output).toMatch(
      /New, TLSv1\.3, Cipher is TLS_(AES_128_GCM_SHA256|AES_256_GCM_SHA384|CHACHA20)/,
    )
    expect(run.output).toContain('Verify return code: 0 (ok)')
  })
})
